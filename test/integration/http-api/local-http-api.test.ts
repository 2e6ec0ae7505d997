import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingHandler, startApiUnderTest, type ApiUnderTest } from './http-api-harness.ts';

const getDeployment = recordingHandler((event) => ({ id: event.pathParameters?.id }));
const getLogs = recordingHandler(() => ({ lines: [] }));
const createDeployment = recordingHandler(() => ({
  statusCode: 202,
  headers: { 'Content-Type': 'application/json', Location: '/deployments/d-9' },
  cookies: ['seen=1; Path=/'],
  body: JSON.stringify({ id: 'd-9', status: 'PENDING' }),
}));
const uploadFile = recordingHandler((event) => ({ size: Buffer.from(event.body ?? '', 'base64').length }));
const health = recordingHandler(() => 'ok');
const files = recordingHandler(() => ({}));
const failing = recordingHandler(() => {
  throw new Error('boom');
});
const slow = recordingHandler(() => new Promise((resolve) => setTimeout(() => resolve({ late: true }), 500)));
const malformed = recordingHandler(() => ({ statusCode: 'teapot' }));

let harness: ApiUnderTest;

beforeAll(async () => {
  harness = await startApiUnderTest({
    routes: [
      { routeKey: 'GET /deployments/{id}', handler: getDeployment.handler, functionName: 'coderunner-get-deployment' },
      { routeKey: 'GET /deployments/{id}/logs', handler: getLogs.handler },
      { routeKey: 'POST /deployments', handler: createDeployment.handler },
      { routeKey: 'PUT /uploads/{name}', handler: uploadFile.handler },
      { routeKey: 'GET /health', handler: health.handler, auth: 'none' },
      { routeKey: 'ANY /files/{proxy+}', handler: files.handler },
      { routeKey: 'GET /failing', handler: failing.handler },
      { routeKey: 'GET /slow', handler: slow.handler },
      { routeKey: 'GET /slow-function', handler: slow.handler, timeoutMs: 20 },
      { routeKey: 'GET /malformed', handler: malformed.handler },
    ],
    maxBodyBytes: 1024,
    integrationTimeoutMs: 100,
  });
});

afterAll(async () => {
  await harness?.stop();
});

describe('routing requests to handlers', () => {
  it('delivers path parameters and the query string in the v2 event', async () => {
    const response = await harness.call('/deployments/d%201/logs?since=2024-01-01&level=info&level=warn');

    expect(response.status).toBe(200);
    const { event } = getLogs.last;
    expect(event.routeKey).toBe('GET /deployments/{id}/logs');
    expect(event.pathParameters).toEqual({ id: 'd 1' });
    expect(event.rawQueryString).toBe('since=2024-01-01&level=info&level=warn');
    expect(event.queryStringParameters).toEqual({ since: '2024-01-01', level: 'info,warn' });
  });

  it('builds the request context like API Gateway', async () => {
    const response = await harness.call('/deployments/d-1', { headers: { 'user-agent': 'test-agent' } });

    const { event } = getDeployment.last;
    expect(event.version).toBe('2.0');
    expect(event.requestContext).toMatchObject({
      http: { method: 'GET', path: '/deployments/d-1', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test-agent' },
      routeKey: 'GET /deployments/{id}',
      stage: '$default',
    });
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(event.requestContext.requestId).toBe(response.headers.get('apigw-requestid'));
  });

  it('adds the forwarding headers and leaves out hop-by-hop ones', async () => {
    await harness.call('/deployments/d-1');

    const { headers } = getDeployment.last.event;
    expect(headers).toMatchObject({ 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'http', 'x-forwarded-port': String(harness.api.port) });
    expect(headers['x-amzn-trace-id']).toMatch(/^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$/);
    expect(headers).not.toHaveProperty('connection');
  });

  it('moves cookies out of the headers into the cookies field', async () => {
    await harness.call('/deployments/d-1', { headers: { cookie: 'a=1; b=2' } });

    const { event } = getDeployment.last;
    expect(event.cookies).toEqual(['a=1', 'b=2']);
    expect(event.headers).not.toHaveProperty('cookie');
  });

  it('hands the handler a Lambda-like context', async () => {
    await harness.call('/deployments/d-1');

    const { context, remainingMs } = getDeployment.last;
    expect(context.functionName).toBe('coderunner-get-deployment');
    expect(context.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context.callbackWaitsForEmptyEventLoop).toBe(true);
    expect(remainingMs).toBeGreaterThan(0);
    expect(remainingMs).toBeLessThanOrEqual(100);
  });

  it('matches a greedy path variable across segments', async () => {
    const response = await harness.call('/files/a/b/c.txt', { method: 'DELETE' });

    expect(response.status).toBe(200);
    expect(files.last.event.pathParameters).toEqual({ proxy: 'a/b/c.txt' });
  });

  it('answers 404 Not Found for a path no route has', async () => {
    const response = await harness.call('/nothing-here');

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ message: 'Not Found' });
  });

  it('answers 404 Not Found for a known path with another method', async () => {
    const response = await harness.call('/deployments/d-1', { method: 'PATCH' });

    expect(response.status).toBe(404);
  });

  it('runs a route without the authorizer when no token is sent', async () => {
    const response = await harness.call('/health', { token: null });

    expect(response.status).toBe(200);
    expect(health.last.event.requestContext).not.toHaveProperty('authorizer');
  });
});

describe('mapping handler results to responses', () => {
  it('passes a structured result through: status, headers, cookies and body', async () => {
    const response = await harness.call('/deployments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });

    expect(response.status).toBe(202);
    expect(response.headers.get('location')).toBe('/deployments/d-9');
    expect(response.headers.getSetCookie()).toEqual(['seen=1; Path=/']);
    expect(await response.json()).toEqual({ id: 'd-9', status: 'PENDING' });
  });

  it('turns a plain object into a 200 JSON response', async () => {
    const response = await harness.call('/deployments/d-7');

    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ id: 'd-7' });
  });

  it('turns a plain string into a JSON string', async () => {
    const response = await harness.call('/health', { token: null });

    expect(await response.text()).toBe('"ok"');
  });

  it('sets the apigw-requestid header', async () => {
    const response = await harness.call('/deployments/d-1');

    expect(response.headers.get('apigw-requestid')).toMatch(/^[A-Za-z0-9]{15}=$/);
  });
});

describe('request bodies', () => {
  it('delivers a binary body base64-encoded with its bytes intact', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 0x80, 0x7f]);

    const response = await harness.call('/uploads/blob.bin', { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });

    expect(response.status).toBe(200);
    const { event } = uploadFile.last;
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body!, 'base64')).toEqual(bytes);
  });

  it('delivers a JSON body as text', async () => {
    await harness.call('/deployments', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"app"}' });

    expect(createDeployment.last.event).toMatchObject({ body: '{"name":"app"}', isBase64Encoded: false });
  });

  it('answers 413 for a body over the limit without calling the handler', async () => {
    const callsBefore = uploadFile.calls.length;

    const response = await harness.call('/uploads/big.bin', { method: 'PUT', body: Buffer.alloc(2048) });

    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ message: 'Request Entity Too Large' });
    expect(uploadFile.calls.length).toBe(callsBefore);
  });

  it('answers 413 for a streamed body that grows over the limit', async () => {
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let index = 0; index < 4; index++) controller.enqueue(new Uint8Array(512));
        controller.close();
      },
    });

    const response = await harness.call('/uploads/stream.bin', { method: 'PUT', body: chunks, duplex: 'half' } as RequestInit);

    expect(response.status).toBe(413);
  });
});

describe('integration failures', () => {
  it('answers 500 Internal Server Error when the handler throws, and logs the error', async () => {
    const response = await harness.call('/failing');

    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ message: 'Internal Server Error' });
    expect(harness.logs.some((line) => line.includes('boom'))).toBe(true);
  });

  it('answers 503 Service Unavailable when the handler outlives the integration timeout', async () => {
    const response = await harness.call('/slow');

    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ message: 'Service Unavailable' });
  });

  it('answers 500 when the handler outlives its own function timeout first', async () => {
    const response = await harness.call('/slow-function');

    expect(response.status).toBe(500);
    expect(harness.logs.some((line) => line.includes('Task timed out after 20 ms'))).toBe(true);
  });

  it('answers 500 when the handler returns a response API Gateway cannot use', async () => {
    const response = await harness.call('/malformed');

    expect(response.status).toBe(500);
    expect(harness.logs.some((line) => line.includes('statusCode'))).toBe(true);
  });
});
