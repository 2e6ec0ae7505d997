/**
 * Per-user quotas over real HTTP: parallel requests get exactly the limit and the rest 429 with
 * Retry-After and the quota named; quotas are given back on every path a deployment ends by.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeploymentRepository } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import { startStackFixture, type ApiClient, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles } from '../support/project-files.ts';

let fixture: StackFixture;

beforeAll(async () => {
  fixture = await startStackFixture({ environment: { SWEEP_ORPHAN_GRACE_SECONDS: '0' } });
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

const GENEROUS = { liveSandboxes: 1000, deploymentsInFlight: 1000, deploymentsPerMinute: 1000, maxSandboxLifetimeSeconds: 86_400 };

/** A user whose own limits an operator set (an item in the deployments table), with a client acting as them. */
async function userWithLimits(limits: Partial<typeof GENEROUS>): Promise<{ userId: string; api: ApiClient }> {
  const userId = `quota-${randomUUID()}`;
  const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
  await documents.send(new PutCommand({ TableName: process.env.DEPLOYMENTS_TABLE, Item: { pk: `QUOTA#${userId}`, sk: 'LIMITS', ...GENEROUS, ...limits } }));
  documents.destroy();
  return { userId, api: await fixture.apiAs(userId) };
}

async function helloRequest(options: Record<string, unknown> = {}) {
  return { projectId: `p-${randomUUID().slice(0, 8)}`, files: await projectFiles('hello-node'), options: { startCommand: 'node server.js', ...options } };
}

async function postInParallel(api: ApiClient, count: number, options: Record<string, unknown> = {}) {
  const bodies = await Promise.all(Array.from({ length: count }, () => helloRequest(options)));
  return Promise.all(bodies.map((body) => api.deploy(body)));
}

async function endAll(api: ApiClient, answers: { status: number; body: any }[]): Promise<void> {
  await Promise.all(answers.filter((answer) => answer.status === 202).map((answer) => api.delete(answer.body.deploymentId)));
}

async function usage(api: ApiClient) {
  return (await api.request('GET', '/quotas')).body.usage;
}

/** Polls until `read` answers `expected` (state that settles asynchronously). */
async function eventually<T>(read: () => Promise<T>, expected: T, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (JSON.stringify(last) === JSON.stringify(expected)) return;
    await sleep(200);
  }
  expect(last).toEqual(expected);
}

describe('quotas', { timeout: 90_000 }, () => {
  it('accepts exactly the live-sandbox limit of 30 parallel deployments and answers the rest 429', async () => {
    // Prepare
    const { api } = await userWithLimits({ liveSandboxes: 5 });

    // Act
    const answers = await postInParallel(api, 30);

    // Assert
    const refused = answers.filter((answer) => answer.status === 429);
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(5);
    expect(refused).toHaveLength(25);
    expect(refused[0]!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused[0]!.body).toMatchObject({ message: expect.stringContaining('live sandboxes: 5 of 5 in use'), quota: { name: 'liveSandboxes', used: 5, limit: 5 } });
    await endAll(api, answers);
  });

  it('accepts exactly the in-flight limit while deployments are still installing', async () => {
    // Prepare: each deployment stays in flight for a while (a slow install)
    const { api } = await userWithLimits({ deploymentsInFlight: 3 });

    // Act
    const answers = await postInParallel(api, 30, { installCommand: 'sleep 20' });

    // Assert
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(3);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused).toHaveLength(27);
    expect(refused[0]!.body.message).toContain('deployments in flight: 3 of 3 in use');
    await endAll(api, answers);
  });

  it('accepts exactly the starts-per-minute limit', async () => {
    // Prepare: the burst must not straddle a minute boundary
    const { api } = await userWithLimits({ deploymentsPerMinute: 10 });
    while (new Date().getUTCSeconds() > 45) await sleep(500);

    // Act
    const answers = await postInParallel(api, 30);

    // Assert
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(10);
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused[0]!.body.message).toMatch(/deployments started per minute: 10 of 10 this minute; retry in \d+ s/);
    expect(Number(refused[0]!.headers.get('retry-after'))).toBeLessThanOrEqual(60);
    await endAll(api, answers);
  });

  it('shows the caller their limits and their usage', async () => {
    // Prepare
    const { api } = await userWithLimits({ liveSandboxes: 4 });
    const accepted = await api.deploy(await helloRequest());
    await api.waitForStatus(accepted.body.deploymentId, ['RUNNING']);

    // Act
    const quotas = await api.request('GET', '/quotas');

    // Assert
    expect(quotas.status).toBe(200);
    expect(quotas.body.limits).toMatchObject({ liveSandboxes: 4, deploymentsInFlight: 1000 });
    expect(quotas.body.usage).toMatchObject({ liveSandboxes: 1, deploymentsInFlight: 0, deploymentsPerMinute: 1 });
    await api.delete(accepted.body.deploymentId);
  });

  it('gives the quota back on every path a deployment ends by: the kill step, DELETE, expiry, an aborted execution, a redeploy', async () => {
    // Prepare: one deployment for each way of ending
    const { api } = await userWithLimits({ liveSandboxes: 10 });
    const failing = await api.deploy(await helloRequest({ startCommand: 'node -e "process.exit(3)"' }));
    const deleted = await api.deploy(await helloRequest());
    const expiring = await api.deploy(await helloRequest());
    const aborted = await api.deploy(await helloRequest({ installCommand: 'sleep 30' }));
    const replaced = await api.deploy(await helloRequest());
    const runningReplaced = await api.waitForStatus(replaced.body.deploymentId, ['RUNNING']);

    // Act
    await api.waitForStatus(failing.body.deploymentId, ['FAILED']);
    await api.waitForStatus(deleted.body.deploymentId, ['RUNNING']);
    await api.delete(deleted.body.deploymentId);
    await api.waitForStatus(expiring.body.deploymentId, ['RUNNING']);
    await repository().update(expiring.body.deploymentId, { expiresAt: new Date(Date.now() - 60_000).toISOString() });
    await fixture.stack.sweep();
    await api.waitForStatus(aborted.body.deploymentId, ['STARTING']);
    const execution = fixture.stack.stepFunctions.listExecutions().find((item) => item.name === aborted.body.deploymentId)!;
    fixture.stack.stepFunctions.stopExecution(execution.executionArn!, { error: 'OperatorAbort', cause: 'stopped by the test' });
    await api.waitForStatus(aborted.body.deploymentId, ['FAILED']);
    const redeploy = await api.deploy({ ...(await helloRequest()), sandboxId: runningReplaced.sandboxId });
    await api.waitForStatus(redeploy.body.deploymentId, ['RUNNING']);

    // Assert: only the redeploy is live, and the usage says exactly that
    await eventually(() => usage(api), { liveSandboxes: 1, deploymentsInFlight: 0, deploymentsPerMinute: 6 });
    expect((await api.get(expiring.body.deploymentId)).body.status).toBe('EXPIRED');
    expect((await api.get(replaced.body.deploymentId)).body.status).toBe('TERMINATED');
    await api.delete(redeploy.body.deploymentId);
    await eventually(async () => (await usage(api)).liveSandboxes, 0);
  });

  it('refuses a keep-alive past the longest a sandbox may live from its creation', async () => {
    // Prepare
    const { api } = await userWithLimits({ maxSandboxLifetimeSeconds: 600 });
    const accepted = await api.deploy(await helloRequest({ timeoutSeconds: 300 }));
    await api.waitForStatus(accepted.body.deploymentId, ['RUNNING']);

    // Act
    const refused = await api.request('POST', `/deployments/${accepted.body.deploymentId}/keepalive`, { seconds: 900 });
    const allowed = await api.request('POST', `/deployments/${accepted.body.deploymentId}/keepalive`, { seconds: 500 });

    // Assert
    expect(refused.status).toBe(400);
    expect(refused.body.message).toMatch(/seconds must be at most \d+: the sandbox may live until .*600 s after its creation/);
    expect(allowed.status).toBe(200);
    await api.delete(accepted.body.deploymentId);
  });

  it('refuses a lifetime past the longest one before creating anything', async () => {
    const { api } = await userWithLimits({ maxSandboxLifetimeSeconds: 600 });

    const answer = await api.deploy(await helloRequest({ timeoutSeconds: 3600 }));

    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain('options.timeoutSeconds must be at most 600');
    expect(await usage(api)).toMatchObject({ liveSandboxes: 0, deploymentsInFlight: 0 });
  });
});

function repository(): DynamoDbDeploymentRepository {
  return new DynamoDbDeploymentRepository({ client: new DynamoDBClient({}), tableName: process.env.DEPLOYMENTS_TABLE! });
}
