/**
 * cdk-nag's AWS Solutions rules as a CDK validation plugin: synthesis fails on any finding that is
 * neither fixed nor acknowledged on its construct. `npx cdk synth` (and deploy) and the CDK
 * template test apply it; the local stack's in-process synth does not (it would cost about a
 * second on every start).
 */
import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

export function applyNagChecks(app: App): AwsSolutionsChecks {
  // verbose: each finding carries the rule's explanation, not just its title.
  const checks = new AwsSolutionsChecks(app, { verbose: true });
  Validations.of(app).addPlugins(checks);
  return checks;
}
