/**
 * Operating deployments over real HTTP: live sandboxes, redeploys into them, keep-alive, a live
 * health probe, merged logs, history and the OpenAPI document; always scoped to the caller.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, liveSandboxesOf, startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles } from '../support/project-files.ts';

let fixture: StackFixture;
let stranger: ApiClient;

beforeAll(async () => {
  fixture = await startStackFixture();
  stranger = await fixture.apiAs('stranger');
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

async function deployRunning(projectId: string, extra: Record<string, unknown> = {}, app = 'hello-node', port?: number): Promise<any> {
  port ??= 3000;
  const accepted = await fixture.api.deploy({ projectId, files: await projectFiles(app), options: { port, startCommand: 'node server.js' }, ...extra });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  const settled = await fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED']);
  expect(settled.status, JSON.stringify(settled.error)).toBe('RUNNING');
  return settled;
}

describe('live sandboxes', () => {
  it("lists the caller's live sandboxes, finds the one of a project, and shows none to another user", async () => {
    // Prepare
    const first = await deployRunning('list-a');
    const second = await deployRunning('list-b');

    // Act
    const all = await fixture.api.request('GET', '/sandboxes');
    const ofProject = await fixture.api.request('GET', '/sandboxes?projectId=list-b');
    const theirs = await stranger.request('GET', '/sandboxes');

    // Assert
    expect(all.body.items.map((item: any) => item.sandboxId)).toEqual(expect.arrayContaining([first.sandboxId, second.sandboxId]));
    expect(ofProject.body.items).toEqual([
      expect.objectContaining({ sandboxId: second.sandboxId, deploymentId: second.deploymentId, projectId: 'list-b', status: 'RUNNING', url: second.url }),
    ]);
    expect(theirs.body.items).toEqual([]);
    await Promise.all([fixture.api.delete(first.deploymentId), fixture.api.delete(second.deploymentId)]);
  });

  it('answers 400 naming the parameter for a bad limit', async () => {
    const answer = await fixture.api.request('GET', '/sandboxes?limit=0');

    expect(answer.status).toBe(400);
    expect(answer.body.errors).toContainEqual({ field: 'limit', rule: 'must be between 1 and 100' });
  });
});

describe('redeploying into a live sandbox', () => {
  it('keeps the sandbox id and serves the new version', async () => {
    // Prepare
    const port = 3000;
    const first = await deployRunning('redeploy', {}, 'hello-node', port);

    // Act
    const second = await deployRunning('redeploy', { sandboxId: first.sandboxId }, 'hello-v2', port);
    const served = await (await fetch(second.url)).text();

    // Assert
    expect(second.status).toBe('RUNNING');
    expect(second.sandboxId).toBe(first.sandboxId);
    expect(second.redeployOf).toBe(first.deploymentId);
    expect(served).toBe('hello from version 2\n');
    expect((await fixture.api.get(first.deploymentId)).body).toMatchObject({ status: 'TERMINATED', replacedBy: second.deploymentId });
    expect(liveSandboxesOf(fixture.stack, second.deploymentId)).toEqual([]);
    await fixture.api.delete(first.deploymentId);
    expect(await fixture.stack.sandboxHost!.registry.get(first.sandboxId)).toBeDefined();
    await fixture.api.delete(second.deploymentId);
    expect(fixture.stack.sandboxHost!.registry.get(first.sandboxId)).toBeUndefined();
  });

  it("runs the redeployed app with the redeploy's env, not the first deployment's", async () => {
    // Prepare
    const port = 3000;
    const first = await deployRunning('redeploy-env', { options: { port, startCommand: 'node server.js', env: { GREETING_NAME: 'first' } } });

    // Act
    const second = await deployRunning('redeploy-env', { reuse: true, options: { port, startCommand: 'node server.js', env: { GREETING_NAME: 'second' } } });

    // Assert
    expect(second.sandboxId).toBe(first.sandboxId);
    expect(await (await fetch(second.url)).text()).toBe('hello from second\n');
    await fixture.api.delete(second.deploymentId);
  });

  it("reuses the caller's live sandbox of the project with reuse: true", async () => {
    const port = 3000;
    const first = await deployRunning('reuse', {}, 'hello-node', port);

    const second = await deployRunning('reuse', { reuse: true }, 'hello-v2', port);

    expect(second.sandboxId).toBe(first.sandboxId);
    expect(await (await fetch(second.url)).text()).toBe('hello from version 2\n');
    await fixture.api.delete(second.deploymentId);
  });

  it("answers 404 for another user's sandbox and creates nothing", async () => {
    const mine = await deployRunning('not-yours');

    const answer = await stranger.deploy({ projectId: 'not-yours', files: await projectFiles('hello-v2'), sandboxId: mine.sandboxId });

    expect(answer.status).toBe(404);
    expect((await stranger.request('GET', '/deployments')).body.items).toEqual([]);
    expect((await fixture.api.get(mine.deploymentId)).body.status).toBe('RUNNING');
    await fixture.api.delete(mine.deploymentId);
  });
});

describe('keep-alive', () => {
  it("extends the sandbox's lifetime and refuses one over the maximum", async () => {
    // Prepare
    const running = await deployRunning('keepalive');

    // Act
    const extended = await fixture.api.request('POST', `/deployments/${running.deploymentId}/keepalive`, { seconds: 7_200 });
    const tooLong = await fixture.api.request('POST', `/deployments/${running.deploymentId}/keepalive`, { seconds: 10_000_000 });
    const theirs = await stranger.request('POST', `/deployments/${running.deploymentId}/keepalive`, { seconds: 600 });

    // Assert
    expect(extended.status).toBe(200);
    expect(new Date(extended.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 7_000_000);
    const hosted = fixture.stack.sandboxHost!.registry.get(running.sandboxId)!;
    expect(hosted.endAt.getTime()).toBeGreaterThan(Date.now() + 7_000_000);
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0].field).toBe('seconds');
    expect(theirs.status).toBe(404);
    await fixture.api.delete(running.deploymentId);
  });
});

describe('live health', () => {
  it('probes the app now, and reports the sandbox when the app stops answering', async () => {
    // Prepare
    const running = await deployRunning('health');

    // Act
    const healthy = await fixture.api.request('GET', `/deployments/${running.deploymentId}/health`);
    const hosted = fixture.stack.sandboxHost!.registry.get(running.sandboxId)!;
    for (const process of hosted.processes.values()) process.signal('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const down = await fixture.api.request('GET', `/deployments/${running.deploymentId}/health`);
    const theirs = await stranger.request('GET', `/deployments/${running.deploymentId}/health`);

    // Assert
    expect(healthy.body).toMatchObject({ status: 'RUNNING', probe: { healthy: true, path: '/health', statusCode: 200 }, sandbox: null });
    expect(healthy.body.probe.latencyMs).toBeGreaterThanOrEqual(0);
    expect(down.body).toMatchObject({ probe: { healthy: false }, sandbox: { sandboxId: running.sandboxId, alive: true } });
    expect(theirs.status).toBe(404);
    await fixture.api.delete(running.deploymentId);
  });
});

describe('logs', () => {
  it('merges a line the app printed and a line from its install, in time order, each with its source', async () => {
    // Prepare
    const accepted = await fixture.api.deploy({
      projectId: 'logs',
      files: await projectFiles('hello-node'),
      options: { port: 3000, startCommand: 'node server.js', installCommand: 'echo installing things' },
    });
    const running = await fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED']);

    // Act
    const answer = await fixture.api.request('GET', `/deployments/${running.deploymentId}/logs?lines=50`);

    // Assert
    const lines: { timestamp: string; source: string; line: string }[] = answer.body.lines;
    const install = lines.findIndex((entry) => entry.source === 'install' && entry.line === 'installing things');
    const app = lines.findIndex((entry) => entry.source === 'app' && /^listening on \d+$/.test(entry.line));
    expect(install).toBeGreaterThanOrEqual(0);
    expect(app).toBeGreaterThan(install);
    expect(lines.map((entry) => entry.timestamp)).toEqual([...lines.map((entry) => entry.timestamp)].sort());
    expect(lines.every((entry) => !Number.isNaN(Date.parse(entry.timestamp)))).toBe(true);
    await fixture.api.delete(running.deploymentId);
  });

  it('answers 400 for too many lines and 404 for another user', async () => {
    const running = await deployRunning('logs-bad');

    const tooMany = await fixture.api.request('GET', `/deployments/${running.deploymentId}/logs?lines=1001`);
    const theirs = await stranger.request('GET', `/deployments/${running.deploymentId}/logs`);

    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toContain('1000');
    expect(theirs.status).toBe(404);
    await fixture.api.delete(running.deploymentId);
  });
});

describe('history', () => {
  it("lists the caller's deployments newest first, by project and status, page by page", async () => {
    // Prepare
    const client = await fixture.apiAs(`history-${Date.now()}`);
    const ids: string[] = [];
    for (const projectId of ['h1', 'h2', 'h1']) {
      const accepted = await client.deploy({ projectId, files: await projectFiles('hello-node'), options: { port: 3000, startCommand: 'node server.js' } });
      ids.push(accepted.body.deploymentId);
      await client.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED']);
    }
    await client.delete(ids[0]!);

    // Act
    const all = await client.request('GET', '/deployments');
    const ofProject = await client.request('GET', '/deployments?projectId=h1');
    const terminated = await client.request('GET', '/deployments?status=TERMINATED');
    const firstPage = await client.request('GET', '/deployments?limit=2');
    const secondPage = await client.request('GET', `/deployments?limit=2&nextToken=${firstPage.body.nextToken}`);
    const badStatus = await client.request('GET', '/deployments?status=SLEEPING');

    // Assert
    expect(all.body.items.map((item: any) => item.deploymentId)).toEqual([...ids].reverse());
    expect(ofProject.body.items.map((item: any) => item.deploymentId)).toEqual([ids[2], ids[0]]);
    expect(terminated.body.items.map((item: any) => item.deploymentId)).toEqual([ids[0]]);
    expect([...firstPage.body.items, ...secondPage.body.items].map((item: any) => item.deploymentId)).toEqual([...ids].reverse());
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.errors[0].field).toBe('status');
    await Promise.all([client.delete(ids[1]!), client.delete(ids[2]!)]);
  });
});

describe('the OpenAPI document', () => {
  it('is served without a token and matches the copy kept in the repo', async () => {
    const anonymous = new ApiClient(fixture.stack.apiUrl, undefined);

    const served = await anonymous.request('GET', '/openapi.json');

    const kept = JSON.parse(await readFile(new URL('../../openapi.json', import.meta.url), 'utf8'));
    expect(served.status).toBe(200);
    expect(served.body).toEqual(kept);
    expect(Object.keys(served.body.paths)).toContain('/deployments/{id}/logs');
  });
});
