/**
 * The CDK stack as the local stack sees it: synthesized in-process (no bundling, no network), so
 * tables, bucket, state machine and function mapping come from the same definition AWS gets.
 * `loadSynthesizedStack` reuses an earlier synthesis while its inputs are unchanged.
 */
import { join } from 'node:path';
import { PROJECT_ROOT } from '../project-root.ts';
import { cachedSynthesis } from './synth-cache.ts';
import type { HandlerName } from '../cdk/handlers.ts';

export interface CloudFormationTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, any> }>;
  Parameters?: Record<string, { Type: string; Default?: string; AllowedPattern?: string }>;
  Rules?: Record<string, { Assertions: { Assert: unknown; AssertDescription?: string }[] }>;
}

export interface SynthesizedStack {
  template: CloudFormationTemplate;
  /** Function logical id → handler name. */
  handlerByLogicalId: Record<string, HandlerName>;
  /** Logical ids of the stack's main resources. */
  logicalIds: {
    deploymentsTable: string;
    idempotencyTable: string;
    webhookSecretsTable: string;
    stagingBucket: string;
    stateMachine: string;
    eventBus: string;
  };
}

/** What the synthesized template is made from (the CDK app imports these). */
export const SYNTH_INPUTS = ['infra/cdk', 'infra/project-root.ts', 'infra/local/synthesized-stack.ts', 'functions', 'cdk.json', 'package-lock.json'];
export const SYNTH_CACHE_DIR = process.env.CODERUNNER_SYNTH_CACHE_DIR || join(PROJECT_ROOT, '.coderunner', 'synth-cache');

export async function synthesizeStack(context: Record<string, unknown> = {}): Promise<SynthesizedStack> {
  // Loaded only when a synthesis is needed: aws-cdk-lib alone takes about half a second to load.
  const { buildApp, STACK_NAME } = await import('../cdk/app.ts');
  const { HANDLERS } = await import('../cdk/handlers.ts');
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
      webhookSecretsTable: logicalId(stack.webhookSecretsTable),
      stagingBucket: logicalId(stack.stagingBucket),
      stateMachine: logicalId(stack.stateMachine.stateMachine),
      eventBus: logicalId(stack.lifecycleEvents.bus),
    },
  };
}

export interface LoadedStack {
  stack: SynthesizedStack;
  /** Whether an earlier synthesis was reused. */
  reused: boolean;
}

/** The synthesized stack, from the cache when the CDK app and its inputs are unchanged. */
export async function loadSynthesizedStack(context: Record<string, unknown> = {}): Promise<SynthesizedStack> {
  return (await loadSynthesizedStackWithOrigin(context)).stack;
}

export async function loadSynthesizedStackWithOrigin(context: Record<string, unknown> = {}): Promise<LoadedStack> {
  const { result, hit } = await cachedSynthesis({
    projectRoot: PROJECT_ROOT,
    inputs: SYNTH_INPUTS,
    cacheDir: SYNTH_CACHE_DIR,
    salt: { context, node: process.versions.node },
    synthesize: () => synthesizeStack(context),
  });
  return { stack: result, reused: hit };
}
