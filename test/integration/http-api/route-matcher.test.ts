import { describe, expect, it } from 'vitest';
import { createRouteTable } from '../../../infra/local/http-api/route-matcher.ts';

function tableOf(...routeKeys: string[]) {
  return createRouteTable(routeKeys.map((routeKey) => ({ routeKey, value: routeKey })));
}

describe('route selection', () => {
  it('prefers a literal segment over a path variable', () => {
    const table = tableOf('GET /deployments/{id}', 'GET /deployments/latest');

    const match = table.match('GET', '/deployments/latest');

    expect(match?.route.routeKey).toBe('GET /deployments/latest');
  });

  it('prefers a path variable over a greedy variable', () => {
    const table = tableOf('ANY /{proxy+}', 'GET /deployments/{id}');

    const match = table.match('GET', '/deployments/d-1');

    expect(match).toMatchObject({ route: { routeKey: 'GET /deployments/{id}' }, pathParameters: { id: 'd-1' } });
  });

  it('prefers an explicit method over ANY', () => {
    const table = tableOf('ANY /deployments', 'POST /deployments');

    const match = table.match('POST', '/deployments');

    expect(match?.route.routeKey).toBe('POST /deployments');
  });

  it('falls back to $default when nothing else matches', () => {
    const table = tableOf('GET /deployments', '$default');

    const match = table.match('PUT', '/anything/else');

    expect(match?.route.routeKey).toBe('$default');
  });

  it('does not match a greedy variable against nothing', () => {
    const table = tableOf('ANY /files/{proxy+}');

    const match = table.match('GET', '/files/');

    expect(match).toBeUndefined();
  });

  it('does not match an empty path variable or a trailing slash', () => {
    const table = tableOf('GET /deployments/{id}', 'GET /deployments');

    expect(table.match('GET', '/deployments/')).toBeUndefined();
    expect(table.match('GET', '/deployments/d-1/')).toBeUndefined();
  });

  it('decodes path parameter values', () => {
    const table = tableOf('GET /files/{name}');

    const match = table.match('GET', '/files/my%20file%2Ftxt');

    expect(match?.pathParameters).toEqual({ name: 'my file/txt' });
  });

  it('refuses a greedy variable that is not the last segment', () => {
    const build = () => tableOf('GET /{proxy+}/tail');

    expect(build).toThrow(/last segment/);
  });
});
