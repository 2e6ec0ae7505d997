import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingHandler, startApiUnderTest, type ApiUnderTest } from './http-api-harness.ts';

const getDeployment = recordingHandler(() => ({
  statusCode: 200,
  headers: { 'access-control-allow-origin': 'https://evil.example' },
  body: '{}',
}));

const ORIGIN = 'http://localhost:5173';

let withCors: ApiUnderTest;
let withoutCors: ApiUnderTest;

beforeAll(async () => {
  const routes = [{ routeKey: 'GET /deployments/{id}', handler: getDeployment.handler }];
  withCors = await startApiUnderTest({
    routes,
    cors: { allowOrigins: [ORIGIN], allowMethods: ['GET', 'POST', 'DELETE'], allowHeaders: ['authorization', 'content-type'], maxAgeSeconds: 600 },
  });
  withoutCors = await startApiUnderTest({ routes });
});

afterAll(async () => {
  await Promise.all([withCors?.stop(), withoutCors?.stop()]);
});

function preflight(api: ApiUnderTest, origin: string): Promise<Response> {
  return fetch(`${api.api.url}/deployments/d-1`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' },
  });
}

describe('CORS', () => {
  it('answers a preflight itself, without a route or a token', async () => {
    const response = await preflight(withCors, ORIGIN);

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
    expect(response.headers.get('access-control-allow-methods')).toBe('GET,POST,DELETE');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization,content-type');
    expect(response.headers.get('access-control-max-age')).toBe('600');
  });

  it('leaves the CORS headers out of a preflight from an origin not allowed', async () => {
    const response = await preflight(withCors, 'https://elsewhere.example');

    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('replaces the CORS headers a handler sets with the configured ones', async () => {
    const response = await withCors.call('/deployments/d-1', { headers: { origin: ORIGIN } });

    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe(ORIGIN);
  });

  it('routes OPTIONS like any other method when CORS is not configured', async () => {
    const response = await preflight(withoutCors, ORIGIN);

    expect(response.status).toBe(404);
  });
});
