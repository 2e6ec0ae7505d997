/**
 * API Gateway HTTP API handlers: the caller from the JWT authorizer, JSON responses, and errors
 * mapped to clear 4xx answers (5xx only for our own faults, without internals).
 */
import middy from '@middy/core';
import { PlanError } from '../deployments/build-plan/plan-error.ts';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type * as z from 'zod';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { DeploymentNotFoundError, LifetimeOutOfBoundsError, NoLiveSandboxError, QuotaExceededError, SandboxNotReusableError } from '../deployments/errors.ts';
import { withInvocationDeadline } from '../runtime/invocation-deadline.ts';
import { describeIssues } from '../validation/field-problems.ts';
import { logger, metrics } from '../runtime/observability.ts';

export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type ApiResult = APIGatewayProxyStructuredResultV2;

/** An answer other than success, with the status and a JSON body that says what is wrong. */
export class HttpProblem extends Error {
  readonly statusCode: number;
  readonly details: Record<string, unknown>;

  constructor(statusCode: number, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'HttpProblem';
    this.statusCode = statusCode;
    this.details = details;
  }
}

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): ApiResult {
  return { statusCode, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/** The authenticated caller: the JWT subject the authorizer verified. */
export function callerId(event: ApiEvent): string {
  const subject = event.requestContext.authorizer?.jwt?.claims?.sub;
  if (typeof subject !== 'string' || !subject) throw new HttpProblem(401, 'the request has no authenticated caller');
  return subject;
}

export function pathParameter(event: ApiEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value) throw new HttpProblem(400, `path parameter ${name} is required`);
  // Ids are ours (UUIDs); anything else cannot exist, and must not reach DynamoDB's key limits.
  if (!/^[A-Za-z0-9-]{1,64}$/.test(value)) throw new HttpProblem(404, `no ${name} ${value.slice(0, 64)}`);
  return value;
}

/** Known errors as answers; anything else is logged and answered 500 without internals. */
export function problemResponse(error: unknown, requestId: string): ApiResult {
  const name = (error as Error)?.name;
  if (error instanceof HttpProblem) return json(error.statusCode, { message: error.message, ...error.details });
  if (error instanceof DeploymentNotFoundError) return json(404, { message: error.message });
  if (error instanceof SandboxNotReusableError) return json(error.statusCode, { message: error.message });
  if (error instanceof NoLiveSandboxError) return json(409, { message: error.message });
  if (error instanceof LifetimeOutOfBoundsError) return json(400, { message: error.message, errors: [{ field: 'seconds', rule: error.message }] });
  if (name === 'InvalidLogQueryError' || name === 'InvalidLogGlobError') return json(400, { message: (error as Error).message });
  if (name === 'SandboxGoneError' || name === 'SandboxNotFoundError') return json(409, { message: 'the deployment\'s sandbox is no longer running' });
  // The sandbox provider's own trouble: retryable answers, not our 500.
  if (name === 'SandboxRateLimitedError') return json(503, { message: 'the sandbox provider is rate limiting; retry shortly' }, { 'retry-after': '5' });
  if (name === 'SandboxUnavailableError') return json(502, { message: 'the sandbox provider is unavailable; retry shortly' });
  if (name === 'SandboxTimeoutError' || name === 'SandboxDeadlineError') return json(504, { message: 'the sandbox did not answer in time' });
  if (name === 'IdempotencyValidationError') {
    return json(422, { message: 'this Idempotency-Key was used before with a different request body' });
  }
  if (name === 'IdempotencyAlreadyInProgressError') {
    return json(409, { message: 'a request with this Idempotency-Key is still in progress; retry shortly' });
  }
  if (name === 'InvalidPageTokenError') return json(400, { message: (error as Error).message });
  if (error instanceof QuotaExceededError) {
    const { quota, used, limit, retryAfterSeconds } = error;
    return json(429, { message: error.message, quota: { name: quota, used, limit }, retryAfterSeconds }, { 'retry-after': String(retryAfterSeconds) });
  }
  if (error instanceof PlanError) {
    return json(400, { message: 'the deployment request is invalid', errors: [{ field: error.field, rule: error.message, message: `${error.field}: ${error.message}` }] });
  }
  logger.error('request failed', { error: error as Error });
  return json(500, { message: 'internal error', requestId });
}

export interface ApiHandlerOptions {
  /** Flush Powertools metrics after each request (only for handlers that add metrics). */
  emitsMetrics?: boolean;
}

export function apiHandler(handler: (event: ApiEvent, context: Context) => Promise<ApiResult>, options: ApiHandlerOptions = {}) {
  const composed = middy(
    withInvocationDeadline(async (event: ApiEvent, context: Context): Promise<ApiResult> => {
      try {
        return await handler(event, context);
      } catch (error) {
        return problemResponse(error, context.awsRequestId);
      }
    }),
  ).use(injectLambdaContext(logger, { resetKeys: true }));
  return options.emitsMetrics ? composed.use(logMetrics(metrics)) : composed;
}

/** Query string parameters validated by a zod schema: a 400 names the parameter and the rule. */
export function queryParameters<Schema extends z.ZodType>(event: ApiEvent, schema: Schema): z.output<Schema> {
  const parsed = schema.safeParse(event.queryStringParameters ?? {});
  if (!parsed.success) {
    const errors = describeIssues(parsed.error.issues, '(query)');
    throw new HttpProblem(400, `invalid query: ${errors.map((error) => error.message).join('; ')}`, { errors });
  }
  return parsed.data;
}
