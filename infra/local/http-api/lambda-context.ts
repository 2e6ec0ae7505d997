/**
 * The `context` argument Lambda passes a handler, built in-process. middy (timeouts) and
 * Powertools (logger keys, metrics dimensions) read these fields, so they must all be present.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LambdaContextOptions {
  functionName: string;
  /** Time the invocation may run; `getRemainingTimeInMillis()` counts down from it. */
  timeoutMs: number;
  region?: string;
  accountId?: string;
  memoryLimitInMB?: number;
  awsRequestId?: string;
  /** Injectable for tests. */
  now?: () => number;
}

export function createLambdaContext(options: LambdaContextOptions): Context {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 1024),
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: logStreamName(new Date(now())),
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    // The pre-promise completion callbacks: handlers here are async, so a call is a bug to surface.
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}

/** `2024/05/01/[$LATEST]<32 hex>`, the shape Lambda uses. */
function logStreamName(date: Date): string {
  const day = date.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomBytes(16).toString('hex')}`;
}

function unsupported(name: string): () => never {
  return () => {
    throw new Error(`context.${name}() is not supported by the local HTTP API; return (or throw) from the async handler`);
  };
}

/** A stable, Lambda-legal function name for a route without one, e.g. `local-get-deployments-id`. */
export function functionNameForRoute(routeKey: string): string {
  const slug = routeKey
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `local-${slug || 'default'}`.slice(0, 64);
}
