/**
 * The CDK stack as the local stack sees it: synthesized in-process (no bundling, no network), so
 * tables, bucket, state machine and function mapping come from the same definition AWS gets.
 */
import { buildApp, STACK_NAME } from '../cdk/app.ts';
import { HANDLERS, type HandlerName } from '../cdk/handlers.ts';

export interface CloudFormationTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, any> }>;
}

export interface SynthesizedStack {
  template: CloudFormationTemplate;
  /** Function logical id → handler name. */
  handlerByLogicalId: Record<string, HandlerName>;
  /** Logical ids of the stack's main resources. */
  logicalIds: { deploymentsTable: string; idempotencyTable: string; stagingBucket: string; stateMachine: string };
}

export function synthesizeStack(context: Record<string, unknown> = {}): SynthesizedStack {
  const { app, stack } = buildApp({ bundle: false, context });
  const template = app.synth().getStackByName(STACK_NAME).template as CloudFormationTemplate;
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  return {
    template,
    handlerByLogicalId: Object.fromEntries(
      (Object.keys(HANDLERS) as HandlerName[]).map((name) => [stack.functionLogicalId(name), name]),
    ),
    logicalIds: {
      deploymentsTable: logicalId(stack.deploymentsTable),
      idempotencyTable: logicalId(stack.idempotencyTable),
      stagingBucket: logicalId(stack.stagingBucket),
      stateMachine: logicalId(stack.stateMachine.stateMachine),
    },
  };
}
