import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJwtAuthority } from '../../../infra/local/http-api/local-jwt.ts';
import { recordingHandler, startApiUnderTest, type ApiUnderTest } from './http-api-harness.ts';

const listDeployments = recordingHandler(() => ({ items: [] }));
const deleteDeployment = recordingHandler(() => ({ statusCode: 204 }));

let harness: ApiUnderTest;

beforeAll(async () => {
  harness = await startApiUnderTest({
    routes: [
      { routeKey: 'GET /deployments', handler: listDeployments.handler },
      { routeKey: 'DELETE /deployments/{id}', handler: deleteDeployment.handler, scopes: ['deployments/admin'] },
    ],
  });
});

afterAll(async () => {
  await harness?.stop();
});

async function expectRefused(response: Response, status = 401): Promise<void> {
  expect(response.status).toBe(status);
  expect(await response.json()).toEqual({ message: status === 401 ? 'Unauthorized' : 'Forbidden' });
  expect(response.headers.get('www-authenticate')).toMatch(/^Bearer/);
}

describe('the JWT authorizer', () => {
  it('hands the token subject to the handler as the authorizer claim sub', async () => {
    const response = await harness.call('/deployments', { subject: 'user-42' });

    expect(response.status).toBe(200);
    const { authorizer } = listDeployments.last.event.requestContext;
    expect(authorizer.jwt.claims.sub).toBe('user-42');
    expect(authorizer.jwt.claims).toMatchObject({ iss: harness.jwt.issuer, aud: harness.jwt.audience });
  });

  it('hands claims over as strings and scopes as a list, like API Gateway', async () => {
    const token = await harness.jwt.issueToken('user-1', { claims: { scope: 'deployments/read deployments/write', groups: ['a', 'b'] } });

    await harness.call('/deployments', { token });

    const { jwt } = listDeployments.last.event.requestContext.authorizer;
    expect(jwt.claims.exp).toMatch(/^\d+$/);
    expect(jwt.claims.groups).toBe('[a b]');
    expect(jwt.scopes).toEqual(['deployments/read', 'deployments/write']);
  });

  it('accepts the token without the Bearer prefix, as API Gateway does', async () => {
    const token = await harness.jwt.issueToken('user-1');

    const response = await fetch(`${harness.api.url}/deployments`, { headers: { authorization: token } });

    expect(response.status).toBe(200);
  });

  it('refuses a request without a token and does not call the handler', async () => {
    const callsBefore = listDeployments.calls.length;

    const response = await harness.call('/deployments', { token: null });

    await expectRefused(response);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(listDeployments.calls.length).toBe(callsBefore);
  });

  it('refuses a token signed by another key', async () => {
    const impostor = await createLocalJwtAuthority({ issuer: harness.jwt.issuer, audience: harness.jwt.audience });
    const token = await impostor.issueToken('user-1');
    const callsBefore = listDeployments.calls.length;

    const response = await harness.call('/deployments', { token });

    await expectRefused(response);
    expect(listDeployments.calls.length).toBe(callsBefore);
  });

  it('refuses an expired token', async () => {
    const token = await harness.jwt.issueToken('user-1', { expiresIn: '-1 min' });

    const response = await harness.call('/deployments', { token });

    await expectRefused(response);
    expect(response.headers.get('www-authenticate')).toContain('error_description="the token has expired"');
  });

  it('refuses a token that is not a JWT', async () => {
    const response = await harness.call('/deployments', { token: 'not-a-jwt' });

    await expectRefused(response);
  });

  it('answers 403 Forbidden when the token lacks every scope the route requires', async () => {
    const token = await harness.jwt.issueToken('user-1', { claims: { scope: 'deployments/read' } });

    const response = await harness.call('/deployments/d-1', { method: 'DELETE', token });

    await expectRefused(response, 403);
    expect(deleteDeployment.calls).toHaveLength(0);
  });

  it('lets a token with one of the route scopes through', async () => {
    const token = await harness.jwt.issueToken('user-1', { claims: { scope: 'deployments/read deployments/admin' } });

    const response = await harness.call('/deployments/d-1', { method: 'DELETE', token });

    expect(response.status).toBe(204);
  });
});

describe('the local JWT authority key file', () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'local-jwt-'));
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('keeps tokens valid across a restart by reusing the persisted key', async () => {
    const keyFile = join(directory, 'restart', 'jwt-key.json');
    const beforeRestart = await createLocalJwtAuthority({ keyFile });
    const token = await beforeRestart.issueToken('user-7');

    const afterRestart = await createLocalJwtAuthority({ keyFile });
    const restarted = await startApiUnderTest({ routes: [{ routeKey: 'GET /deployments', handler: listDeployments.handler }], jwt: afterRestart });
    const response = await restarted.call('/deployments', { token }).finally(() => restarted.stop());

    expect(response.status).toBe(200);
    expect(listDeployments.last.event.requestContext.authorizer.jwt.claims.sub).toBe('user-7');
  });

  it('writes the key readable by its owner only', async () => {
    const keyFile = join(directory, 'mode', 'jwt-key.json');

    await createLocalJwtAuthority({ keyFile });

    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  });

  it('gives concurrent starts the same key', async () => {
    const keyFile = join(directory, 'race', 'jwt-key.json');

    const [first, second] = await Promise.all([createLocalJwtAuthority({ keyFile }), createLocalJwtAuthority({ keyFile })]);

    await expect(second.verify(await first.issueToken('user-1'))).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('refuses a token for another audience even when signed by the same key', async () => {
    const keyFile = join(directory, 'audience', 'jwt-key.json');
    const otherApi = await createLocalJwtAuthority({ keyFile, audience: 'another-api' });
    const ourApi = await createLocalJwtAuthority({ keyFile });

    const verification = ourApi.verify(await otherApi.issueToken('user-1'));

    await expect(verification).rejects.toMatchObject({ description: 'the token does not have a valid audience' });
  });

  it('mints a distinct key for each key file', async () => {
    const first = await createLocalJwtAuthority({ keyFile: join(directory, 'one.json') });
    const second = await createLocalJwtAuthority({ keyFile: join(directory, 'two.json') });

    const verification = second.verify(await first.issueToken('user-1'));

    await expect(verification).rejects.toThrow(/JWT rejected/);
  });
});
