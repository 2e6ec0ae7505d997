/**
 * The `context` argument Lambda gives a handler. middy (timeouts) and Powertools (logger keys,
 * idempotency expiry) read these fields, so all of them are present.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export type LambdaLikeContext = Context;

export interface LambdaContextOptions {
  functionName: string;
  /** The ARN the caller used, qualifier included. */
  invokedFunctionArn: string;
  /** Time the invocation may run; `getRemainingTimeInMillis()` counts down from it. */
  timeoutMs: number;
  memoryLimitInMB?: number;
  now?: () => number;
}

export function createLambdaContext(options: LambdaContextOptions): LambdaLikeContext {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: options.invokedFunctionArn,
    memoryLimitInMB: String(options.memoryLimitInMB ?? 1024),
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: logStreamName(new Date(now())),
    getRemainingTimeInMillis: () => Math.max(0, deadline - now()),
    // Callback-style completion is gone from the nodejs24.x runtime: a call is a bug to surface.
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
