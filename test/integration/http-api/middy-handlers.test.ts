import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startApiUnderTest, type ApiUnderTest } from './http-api-harness.ts';

type JsonEvent = Omit<APIGatewayProxyEventV2WithJWTAuthorizer, 'body'> & { body: { name?: string } };

const logger = new Logger({ serviceName: 'coderunner-test' });

/** Shaped like the project's HTTP handlers: middy, JSON body, HTTP errors, Powertools logger. */
const createDeployment = middy<JsonEvent, APIGatewayProxyStructuredResultV2>()
  .use(injectLambdaContext(logger))
  .use(httpHeaderNormalizer())
  .use(httpJsonBodyParser())
  .use(httpErrorHandler({ logger: false }))
  .handler(async (event) => {
    logger.info('creating deployment');
    const owner = event.requestContext.authorizer.jwt.claims.sub;
    return { statusCode: 201, body: JSON.stringify({ name: event.body.name, owner }) };
  });

let harness: ApiUnderTest;

beforeAll(async () => {
  harness = await startApiUnderTest({
    routes: [{ routeKey: 'POST /deployments', handler: createDeployment, functionName: 'coderunner-create-deployment' }],
  });
});

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  await harness?.stop();
});

function captureStdout(): string[] {
  const lines: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  return lines;
}

describe('middy handlers behind the local HTTP API', () => {
  it('parse the JSON body and read the caller from the JWT claims', async () => {
    captureStdout();

    const response = await harness.call('/deployments', {
      method: 'POST',
      subject: 'user-42',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'my-app' }),
    });

    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ name: 'my-app', owner: 'user-42' });
  });

  it('log with the Lambda context fields Powertools reads', async () => {
    const stdout = captureStdout();

    await harness.call('/deployments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"a"}' });

    const entry = stdout.map((line) => JSON.parse(line) as Record<string, unknown>).find((log) => log.message === 'creating deployment');
    expect(entry).toMatchObject({ function_name: 'coderunner-create-deployment', function_memory_size: '1024' });
    expect(entry?.function_request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answer a middy HTTP error with its status', async () => {
    captureStdout();

    const response = await harness.call('/deployments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{not json' });

    expect(response.status).toBe(422);
  });
});
