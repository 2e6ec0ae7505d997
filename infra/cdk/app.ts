/**
 * The CDK app (`npx cdk synth`, `npx cdk deploy`). Settings come from CDK context (cdk.json or
 * `-c key=value`); synth works offline without credentials. Run by the CLI, it applies cdk-nag's
 * AWS Solutions checks: a finding that is neither fixed nor acknowledged fails the synth.
 */
import { App, Duration } from 'aws-cdk-lib';
import { fileURLToPath } from 'node:url';
import { PROJECT_ROOT } from '../project-root.ts';
import { CodeRunnerStack } from './coderunner-stack.ts';
import { PLACEHOLDER_JWT_ISSUER } from './jwt-issuer.ts';

export const STACK_NAME = 'CodeRunner';
export { PROJECT_ROOT };

export interface BuildAppOptions {
  /** Skip esbuild bundling (the local stack and tests only need the template). */
  bundle?: boolean;
  context?: Record<string, unknown>;
  /** Where the cloud assembly goes (default: the CLI's, or a temporary directory). */
  outdir?: string;
}

/**
 * Feature flags the template depends on. They live here, not in cdk.json, because cdk.json's
 * context reaches only the CLI: the local stack and the tests must synthesize the same template.
 */
const FEATURE_FLAGS = {
  // Server access logs are delivered through a bucket policy, not the legacy log-delivery ACL.
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

export function buildApp(options: BuildAppOptions = {}): { app: App; stack: CodeRunnerStack } {
  const app = new App({
    ...(options.outdir ? { outdir: options.outdir } : {}),
    context: {
      ...FEATURE_FLAGS,
      ...(options.bundle === false ? { 'aws:cdk:bundling-stacks': [] } : {}),
      ...options.context,
    },
  });
  const context = (key: string, fallback: string) => (app.node.tryGetContext(key) as string | undefined) ?? fallback;
  const stack = new CodeRunnerStack(app, STACK_NAME, {
    projectRoot: PROJECT_ROOT,
    agentSphereApiKeySecret: context('agentSphereApiKeySecret', 'coderunner/agentsphere-api-key'),
    agentSphereDomain: context('agentSphereDomain', 'agentsphere.run'),
    // The placeholder synthesizes (tests, the local stack) but is refused by `cdk deploy`.
    jwtIssuer: context('jwtIssuer', PLACEHOLDER_JWT_ISSUER),
    jwtAudience: context('jwtAudience', 'coderunner-api').split(','),
    sweepInterval: Duration.minutes(Number(context('sweepIntervalMinutes', '5'))),
    quotas: {
      liveSandboxes: Number(context('quotaLiveSandboxes', '5')),
      deploymentsInFlight: Number(context('quotaDeploymentsInFlight', '3')),
      deploymentsPerMinute: Number(context('quotaDeploymentsPerMinute', '10')),
      maxSandboxLifetimeSeconds: Number(context('maxSandboxLifetimeSeconds', '86400')),
    },
    apiThrottle: { rateLimit: Number(context('apiRateLimit', '50')), burstLimit: Number(context('apiBurstLimit', '100')) },
    ...(app.node.tryGetContext('alarmEmail') ? { alarmEmail: String(app.node.tryGetContext('alarmEmail')) } : {}),
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  return { app, stack };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { app } = buildApp();
  // Imported here only: the local stack's in-process synth skips the checks (nag-checks.ts).
  const { applyNagChecks } = await import('./nag-checks.ts');
  applyNagChecks(app);
  app.synth();
}
