/**
 * The `context` argument Lambda passes a handler, built in-process (the local HTTP API, the Step
 * Functions runner and the local stack's scheduled handlers all use it). middy (timeouts) and
 * Powertools (logger keys, metrics dimensions) read these fields, so they must all be present.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export type LambdaLikeContext = Context;

export interface LambdaContextOptions {
  functionName: string;
  /** The ARN the caller used; by default built from region, account and function name. */
  invokedFunctionArn?: string;
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
    invokedFunctionArn: options.invokedFunctionArn ?? `arn:aws:lambda:${region}:${accountId}:function:${options.functionName}`,
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
    throw new Error(`context.${name}() is not supported locally; return (or throw) from the async handler`);
  };
}
