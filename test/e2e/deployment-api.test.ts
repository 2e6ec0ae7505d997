/**
 * The deployment API's contract over real HTTP: authentication, ownership, validation before
 * anything is created, and idempotent retries.
 */
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles } from '../support/project-files.ts';

let fixture: StackFixture;

beforeAll(async () => {
  fixture = await startStackFixture();
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

async function storedDeployments(): Promise<number> {
  const client = new DynamoDBClient({});
  const { Count = 0 } = await client.send(new ScanCommand({ TableName: process.env.DEPLOYMENTS_TABLE, Select: 'COUNT' }));
  client.destroy();
  return Count;
}

async function validRequest(overrides: Record<string, unknown> = {}) {
  return { projectId: 'api-test', files: await projectFiles('hello-node'), options: { port: 3000, startCommand: 'node server.js' }, ...overrides };
}

describe('authentication and ownership', () => {
  it('answers 401 to a request without a token', async () => {
    const anonymous = new ApiClient(fixture.stack.apiUrl, undefined);

    const answer = await anonymous.deploy(await validRequest());

    expect(answer.status).toBe(401);
  });

  it("answers 404 for another user's deployment, for reading and for deleting", async () => {
    // Prepare
    const accepted = await fixture.api.deploy(await validRequest());
    const stranger = await fixture.apiAs('someone-else');

    // Act
    const read = await stranger.get(accepted.body.deploymentId);
    const deleted = await stranger.delete(accepted.body.deploymentId);

    // Assert
    expect(read.status).toBe(404);
    expect(deleted.status).toBe(404);
    expect((await fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED'])).status).toBe('RUNNING');
    await fixture.api.delete(accepted.body.deploymentId);
  });

  it('deletes idempotently', async () => {
    const accepted = await fixture.api.deploy(await validRequest());
    await fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED']);

    const first = await fixture.api.delete(accepted.body.deploymentId);
    const second = await fixture.api.delete(accepted.body.deploymentId);

    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.body.status).toBe('TERMINATED');
  });
});

describe('validation before anything is created', () => {
  const cases: [string, (files: any[]) => Record<string, unknown>, string, string][] = [
    ['a path that climbs out', (files) => ({ files: [{ ...files[0], path: '../etc/passwd' }] }), 'files[0].path', 'must not contain ".."'],
    ['an absolute path', (files) => ({ files: [{ ...files[0], path: '/etc/passwd' }] }), 'files[0].path', 'must be relative'],
    ['a path with NUL', (files) => ({ files: [{ ...files[0], path: 'a\u0000b' }] }), 'files[0].path', 'must not contain NUL'],
    ['a path that is not normalized', (files) => ({ files: [{ ...files[0], path: 'a//b.js' }] }), 'files[0].path', 'must be normalized (no "." segments, empty segments or trailing /)'],
    ['a duplicate path', (files) => ({ files: [files[0], files[0]] }), 'files[1].path', 'duplicates an earlier file'],
    ['too many files', () => ({ files: Array.from({ length: 2_001 }, (_, i) => ({ path: `f${i}`, content: '' })) }), 'files', 'must contain at most 2000 files'],
    ['a file over the size limit', () => ({ files: [{ path: 'big.txt', content: 'x'.repeat(1024 * 1024 + 1) }] }), 'files[0].content', 'must be at most 1048576 bytes (is 1048577)'],
    ['invalid base64', () => ({ files: [{ path: 'a.bin', content: '@@@', encoding: 'base64' }] }), 'files[0].content', 'is not valid base64'],
    ['a port out of range', () => ({ options: { port: 80, startCommand: 'node server.js' } }), 'options.port', 'must be between 1024 and 65535'],
    ['the sandbox daemon port', () => ({ options: { port: 49983, startCommand: 'node server.js' } }), 'options.port', "is reserved (it is the sandbox daemon's port)"],
    ['a bad env name', () => ({ options: { startCommand: 'x', env: { 'BAD-NAME': '1' } } }), 'options.env.BAD-NAME', 'env names must match [A-Za-z_][A-Za-z0-9_]*'],
    ['an unknown field', () => ({ extra: true }), '(body)', 'unknown field'],
    ['a project with nothing to start', () => ({ files: [{ path: 'notes.txt', content: 'hi' }], options: {} }), 'options.startCommand', expect.stringMatching(/^no start command found: looked for /) as unknown as string],
    ['a health path that names another host', () => ({ options: { startCommand: 'x', healthPath: '//evil.example/health' } }), 'options.healthPath', 'must not contain "//" (it would name another host)'],
    ['a health path with a backslash', () => ({ options: { startCommand: 'x', healthPath: '/\\evil.example' } }), 'options.healthPath', 'must not contain a backslash'],
    ['a health path with userinfo', () => ({ options: { startCommand: 'x', healthPath: '/@evil.example' } }), 'options.healthPath', 'must not contain "@"'],
    ['a health path that is a URL', () => ({ options: { startCommand: 'x', healthPath: 'http://169.254.169.254/latest' } }), 'options.healthPath', 'must start with /'],
    ['a lifetime over the bound', () => ({ options: { startCommand: 'x', timeoutSeconds: 999_999 } }), 'options.timeoutSeconds', 'must be between 60 and 86400'],
  ];

  it.each(cases)('answers 400 naming the field and the rule for %s, and creates nothing', async (_name, change, field, rule) => {
    // Prepare
    const files = await projectFiles('hello-node');
    const before = await storedDeployments();

    // Act
    const answer = await fixture.api.deploy({ ...(await validRequest()), ...change(files) });

    // Assert
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toContainEqual(expect.objectContaining({ field, rule }));
    expect(await storedDeployments()).toBe(before);
  });

  it('answers 415 to a body that is not JSON', async () => {
    const answer = await fixture.api.request('POST', '/deployments', 'projectId=x', { 'content-type': 'application/x-www-form-urlencoded' });

    expect(answer.status).toBe(415);
  });

  it('answers 400 to malformed JSON', async () => {
    const answer = await fixture.api.request('POST', '/deployments', '{"projectId":', { 'content-type': 'application/json' });

    expect(answer).toMatchObject({ status: 400, body: { message: 'the body is not valid JSON' } });
  });
});

describe('idempotent retries', () => {
  it('returns the original deployment when a POST is retried with the same Idempotency-Key', async () => {
    // Prepare
    const request = await validRequest();
    const key = `retry-${Date.now()}`;

    // Act
    const first = await fixture.api.deploy(request, { 'idempotency-key': key });
    const retried = await fixture.api.deploy(request, { 'idempotency-key': key });

    // Assert
    expect(first.status).toBe(202);
    expect(retried.status).toBe(202);
    expect(retried.body.deploymentId).toBe(first.body.deploymentId);
    await fixture.api.waitForStatus(first.body.deploymentId, ['RUNNING', 'FAILED']);
    await fixture.api.delete(first.body.deploymentId);
  });

  it('refuses the same Idempotency-Key with a different body', async () => {
    const key = `conflict-${Date.now()}`;
    const first = await fixture.api.deploy(await validRequest(), { 'idempotency-key': key });

    const different = await fixture.api.deploy(await validRequest({ projectId: 'another' }), { 'idempotency-key': key });

    expect(different.status).toBe(422);
    await fixture.api.waitForStatus(first.body.deploymentId, ['RUNNING', 'FAILED']);
    await fixture.api.delete(first.body.deploymentId);
  });
});
