/**
 * What one deployment uses of each AWS service, counted on the real local stack: Step Functions
 * state transitions (from the ASL runner's events), Lambda invocations and billed duration (the
 * local Lambda runtime's meter), DynamoDB requests (at dynalite), S3 requests (at s3rver) and
 * EventBridge events (at the local bus). Two phases, each counted from zero: `deploy`, from
 * `POST /deployments` until the execution has ended and no Lambda runs, and `delete`, the
 * `DELETE` until no Lambda runs. Nothing polls the API in between, so no GET is counted.
 */
import { gigabyteSeconds, type LambdaInvocation } from '../../infra/local/lambda-invocations.ts';
import type { LocalStack } from '../../infra/local/local-stack.ts';
import { s3PriceTier } from '../../infra/local/aws/s3-operation.ts';
import { stateTransitions } from '../../infra/local/step-functions/state-transitions.ts';

const DYNAMODB_READS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const DYNAMODB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

export interface PhaseUsage {
  stateTransitions: number;
  transitionsByState: Record<string, number>;
  lambda: { invocations: number; byFunction: Record<string, number>; billedMs: number; gbSeconds: number };
  dynamoDb: { reads: number; writes: number; byOperation: Record<string, number> };
  s3: { requests: number; writeTier: number; readTier: number; free: number; byOperation: Record<string, number> };
  eventBridge: { events: number; byDetailType: Record<string, number> };
}

export interface DeploymentUsage {
  deploymentId: string;
  status: string;
  deploy: PhaseUsage;
  delete: PhaseUsage;
}

export class DeploymentDidNotRunError extends Error {
  constructor(deploymentId: string, status: string, detail: unknown) {
    super(`deployment ${deploymentId} ended ${status}, not RUNNING: ${JSON.stringify(detail)}`);
    this.name = 'DeploymentDidNotRunError';
  }
}

/** Deploys `body` as the token's user and counts both phases. The deployment ends TERMINATED. */
export async function measureDeployment(stack: LocalStack, token: string, body: unknown): Promise<DeploymentUsage> {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  await stack.lambdasIdle();
  stack.resetCounters();
  const response = await fetch(`${stack.apiUrl}/deployments`, { method: 'POST', headers, body: JSON.stringify(body) });
  const accepted = (await response.json()) as { deploymentId?: string };
  if (response.status !== 202 || !accepted.deploymentId) throw new Error(`POST /deployments answered ${response.status}: ${JSON.stringify(accepted)}`);
  const { deploymentId } = accepted;
  const execution = stack.stepFunctions.listExecutions().find((candidate) => candidate.name === deploymentId);
  if (!execution?.executionArn) throw new Error(`no execution was started for deployment ${deploymentId}`);
  const ended = await stack.stepFunctions.waitForExecution(execution.executionArn);
  await stack.lambdasIdle();
  const deploy = snapshot(stack, stateTransitions(stack.stepFunctions.executionEvents(execution.executionArn)));

  const view = (await (await fetch(`${stack.apiUrl}/deployments/${deploymentId}`, { headers })).json()) as { status: string; error?: unknown };
  stack.resetCounters();
  const deleted = await fetch(`${stack.apiUrl}/deployments/${deploymentId}`, { method: 'DELETE', headers });
  await deleted.arrayBuffer();
  await stack.lambdasIdle();
  const deletion = snapshot(stack, { total: 0, byState: new Map() });
  if (view.status !== 'RUNNING') throw new DeploymentDidNotRunError(deploymentId, `${view.status} (execution ${ended.status})`, view.error);
  return { deploymentId, status: view.status, deploy, delete: deletion };
}

function snapshot(stack: LocalStack, transitions: { total: number; byState: ReadonlyMap<string, number> }): PhaseUsage {
  const dynamoDb = Object.fromEntries(stack.dynamoDbRequests());
  const s3 = Object.fromEntries(stack.s3Requests());
  const invocations = stack.lambdaInvocations();
  const sum = (counts: Record<string, number>, keep: (operation: string) => boolean) =>
    Object.entries(counts).reduce((total, [operation, count]) => total + (keep(operation) ? count : 0), 0);
  return {
    stateTransitions: transitions.total,
    transitionsByState: Object.fromEntries(transitions.byState),
    lambda: lambdaUsage(invocations),
    dynamoDb: { reads: sum(dynamoDb, (operation) => DYNAMODB_READS.has(operation)), writes: sum(dynamoDb, (operation) => DYNAMODB_WRITES.has(operation)), byOperation: dynamoDb },
    s3: {
      requests: sum(s3, () => true),
      writeTier: sum(s3, (operation) => s3PriceTier(operation) === 'write'),
      readTier: sum(s3, (operation) => s3PriceTier(operation) === 'read'),
      free: sum(s3, (operation) => s3PriceTier(operation) === 'free'),
      byOperation: s3,
    },
    eventBridge: { events: sum(Object.fromEntries(stack.eventBridge.publishedEvents()), () => true), byDetailType: Object.fromEntries(stack.eventBridge.publishedEvents()) },
  };
}

function lambdaUsage(invocations: readonly LambdaInvocation[]): PhaseUsage['lambda'] {
  const byFunction: Record<string, number> = {};
  for (const invocation of invocations) byFunction[invocation.functionName] = (byFunction[invocation.functionName] ?? 0) + 1;
  return {
    invocations: invocations.length,
    byFunction,
    billedMs: invocations.reduce((sum, invocation) => sum + invocation.billedMs, 0),
    gbSeconds: gigabyteSeconds(invocations),
  };
}

/** Both phases added up. */
export function totalUsage(usage: DeploymentUsage): PhaseUsage {
  const { deploy: a, delete: b } = usage;
  const add = (x: Record<string, number>, y: Record<string, number>) => {
    const sum = { ...x };
    for (const [key, value] of Object.entries(y)) sum[key] = (sum[key] ?? 0) + value;
    return sum;
  };
  return {
    stateTransitions: a.stateTransitions + b.stateTransitions,
    transitionsByState: add(a.transitionsByState, b.transitionsByState),
    lambda: { invocations: a.lambda.invocations + b.lambda.invocations, byFunction: add(a.lambda.byFunction, b.lambda.byFunction), billedMs: a.lambda.billedMs + b.lambda.billedMs, gbSeconds: a.lambda.gbSeconds + b.lambda.gbSeconds },
    dynamoDb: { reads: a.dynamoDb.reads + b.dynamoDb.reads, writes: a.dynamoDb.writes + b.dynamoDb.writes, byOperation: add(a.dynamoDb.byOperation, b.dynamoDb.byOperation) },
    s3: {
      requests: a.s3.requests + b.s3.requests,
      writeTier: a.s3.writeTier + b.s3.writeTier,
      readTier: a.s3.readTier + b.s3.readTier,
      free: a.s3.free + b.s3.free,
      byOperation: add(a.s3.byOperation, b.s3.byOperation),
    },
    eventBridge: { events: a.eventBridge.events + b.eventBridge.events, byDetailType: add(a.eventBridge.byDetailType, b.eventBridge.byDetailType) },
  };
}
