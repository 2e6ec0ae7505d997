/**
 * The dependency cache end to end, with every local component real: installs from the npm
 * registry through the egress proxy, archives moved by the sandbox itself through presigned
 * URLs to s3rver behind its gate, the saga, the HTTP API.
 */
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dependencyCacheObjectKey } from '../../functions/shared/adapters/s3-dependency-cache.ts';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import { curl } from '../support/app-corpus.ts';
import { startStackFixture, type ApiClient, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles, type RequestFile } from '../support/project-files.ts';

/** A real `npm ci` from the registry on a loaded 2-core machine, twice per test at most. */
const DEPLOY_TIMEOUT_MS = 120_000;
let fixture: StackFixture;
let files: RequestFile[];
const deployments: { api: ApiClient; id: string }[] = [];

beforeAll(async () => {
  fixture = await startStackFixture({ environment: { HEALTH_TIMEOUT_SECONDS: '60' } });
  files = await projectFiles('with-lockfile');
});

afterAll(async () => {
  for (const { api, id } of deployments) await api.delete(id).catch(() => undefined);
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

/** Deploys the project (with no options: the plan chooses npm ci) and waits for RUNNING or FAILED. */
async function deploy(api: ApiClient, projectId: string, projectFilesToSend = files, extra: Record<string, unknown> = {}) {
  const accepted = await api.deploy({ projectId, files: projectFilesToSend, ...extra });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  deployments.push({ api, id: accepted.body.deploymentId });
  return api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED'], DEPLOY_TIMEOUT_MS);
}

/** The install log lines of a deployment, as GET /deployments/{id}/logs gives them. */
async function installLog(api: ApiClient, deploymentId: string): Promise<string[]> {
  const answer = await api.request('GET', `/deployments/${deploymentId}/logs?lines=1000`);
  return (answer.body.lines as { source: string; line: string }[]).filter((entry) => entry.source === 'install').map((entry) => entry.line);
}

/** Waits until the background save of `key` for `userId` reached the local S3. */
async function savedEntry(userId: string, key: string): Promise<void> {
  const objectKey = dependencyCacheObjectKey(userId, key, 'tar.zst');
  const deadline = Date.now() + DEPLOY_TIMEOUT_MS;
  while (!fixture.stack.s3CreatedObjects().some((object) => object.key === objectKey)) {
    if (Date.now() > deadline) throw new Error(`the dependency archive ${objectKey} was never saved`);
    await sleep(100);
  }
}

/** A first deployment of the project for a user, whose install is then saved to the cache. */
async function primed(userId: string, projectId: string) {
  const api = await fixture.apiAs(userId);
  const first = await deploy(api, projectId);
  expect(first.status, JSON.stringify(first.error)).toBe('RUNNING');
  expect(first.dependencies).toMatchObject({ source: 'installed', cache: 'miss', lockfile: 'package-lock.json', saving: true });
  await savedEntry(userId, first.dependencies.key);
  return { api, first };
}

describe('the dependency cache', () => {
  it('restores an unchanged lockfile into a new sandbox from the cache and skips the install', { timeout: 2 * DEPLOY_TIMEOUT_MS }, async () => {
    // Prepare
    const { api, first } = await primed('cache-hit-user', 'cache-hit-a');

    // Act
    const second = await deploy(api, 'cache-hit-b');

    // Assert
    expect(second.status, JSON.stringify(second.error)).toBe('RUNNING');
    expect(second.sandboxId).not.toBe(first.sandboxId);
    expect(second.dependencies).toMatchObject({ key: first.dependencies.key, source: 'cache', cache: 'hit', archive: { format: 'tar.zst' } });
    expect(second.plan.notes.join('\n')).toContain('dependencies restored from cache');
    const log = await installLog(api, second.deploymentId);
    expect(log.join('\n')).toContain('dependencies restored from cache (package-lock.json unchanged');
    // npm never ran in the new sandbox: no "added 1 package" line of its own.
    expect(log.filter((line) => /added \d+ package/.test(line))).toEqual([]);
    expect((await curl(second.url)).body).toContain('two days are 172800000 ms');
  });

  it('misses for a changed lockfile', { timeout: 2 * DEPLOY_TIMEOUT_MS }, async () => {
    // Prepare
    const { api, first } = await primed('cache-changed-user', 'cache-changed-a');
    // The same dependencies, another lockfile text: the key covers the lockfile's bytes.
    const changed = files.map((file) => (file.path === 'package-lock.json' ? { ...file, content: JSON.stringify(JSON.parse(file.content)) } : file));

    // Act
    const second = await deploy(api, 'cache-changed-b', changed);

    // Assert
    expect(second.status, JSON.stringify(second.error)).toBe('RUNNING');
    expect(second.dependencies).toMatchObject({ source: 'installed', cache: 'miss' });
    expect(second.dependencies.key).not.toBe(first.dependencies.key);
  });

  it("never uses another owner's entry for the same lockfile", { timeout: 2 * DEPLOY_TIMEOUT_MS }, async () => {
    // Prepare
    const { first } = await primed('cache-owner-a', 'cache-owner');
    const other = await fixture.apiAs('cache-owner-b');

    // Act
    const second = await deploy(other, 'cache-owner');

    // Assert
    expect(second.status, JSON.stringify(second.error)).toBe('RUNNING');
    expect(second.dependencies).toMatchObject({ key: first.dependencies.key, source: 'installed', cache: 'miss' });
    const log = await installLog(other, second.deploymentId);
    expect(log.join('\n')).not.toContain('dependencies restored from cache');
  });

  it('falls back to a normal install when the archive is corrupt, and the deployment still reaches RUNNING', { timeout: 2 * DEPLOY_TIMEOUT_MS }, async () => {
    // Prepare
    const userId = 'cache-corrupt-user';
    const { api, first } = await primed(userId, 'cache-corrupt-a');
    const s3 = new S3Client({ endpoint: fixture.stack.s3.endpoint, forcePathStyle: true });
    const objectKey = dependencyCacheObjectKey(userId, first.dependencies.key, 'tar.zst');
    await s3.send(new PutObjectCommand({ Bucket: fixture.stack.s3.bucket, Key: objectKey, Body: 'this is not a zstd archive' }));
    const savesBefore = fixture.stack.s3CreatedObjects().filter((object) => object.key === objectKey).length;

    // Act
    const second = await deploy(api, 'cache-corrupt-b');

    // Assert
    expect(second.status, JSON.stringify(second.error)).toBe('RUNNING');
    expect(second.dependencies).toMatchObject({ key: first.dependencies.key, source: 'installed', cache: 'unreadable', saving: true });
    const log = (await installLog(api, second.deploymentId)).join('\n');
    expect(log).toContain('dependencies could not be restored from cache (the archive could not be downloaded or unpacked): installing them');
    expect(log).toMatch(/added \d+ package/);
    expect((await curl(second.url)).body).toContain('two days are 172800000 ms');
    // A good archive replaces the corrupt one.
    const deadline = Date.now() + DEPLOY_TIMEOUT_MS;
    while (fixture.stack.s3CreatedObjects().filter((object) => object.key === objectKey).length === savesBefore) {
      if (Date.now() > deadline) throw new Error('the corrupt archive was never replaced');
      await sleep(100);
    }
    s3.destroy();
  });

  it('skips the install entirely on a redeploy into the live sandbox with an unchanged lockfile', { timeout: 2 * DEPLOY_TIMEOUT_MS }, async () => {
    // Prepare
    const api = await fixture.apiAs('cache-redeploy-user');
    const first = await deploy(api, 'cache-redeploy');
    expect(first.status, JSON.stringify(first.error)).toBe('RUNNING');
    // The save marks node_modules with its key first: wait until it is done.
    await savedEntry('cache-redeploy-user', first.dependencies.key);

    // Act
    const second = await deploy(api, 'cache-redeploy', files, { reuse: true });

    // Assert
    expect(second.status, JSON.stringify(second.error)).toBe('RUNNING');
    expect(second.sandboxId).toBe(first.sandboxId);
    expect(second.dependencies).toMatchObject({ key: first.dependencies.key, source: 'kept-from-previous-deployment', cache: 'kept' });
    const log = await installLog(api, second.deploymentId);
    expect(log).toContainEqual(expect.stringMatching(/^dependencies kept from the previous deployment \(package-lock.json unchanged, key [0-9a-f]{12}\): install skipped$/));
    // The one npm run in this sandbox is the first deployment's.
    expect(log.filter((line) => /added \d+ package/.test(line))).toHaveLength(1);
    expect((await curl(second.url)).body).toContain('two days are 172800000 ms');
  });

  it('lets a sandbox reach the local S3 only through presigned URLs of its gate', { timeout: 2 * DEPLOY_TIMEOUT_MS }, async () => {
    // Prepare
    const userId = 'cache-gate-user';
    const { first } = await primed(userId, 'cache-gate');
    const host = fixture.stack.sandboxHost!;
    const sandbox = await new AgentSphereProvider({ apiKey: host.apiKey, domain: host.sdkDomain, appUrlScheme: 'http' }).connect(first.sandboxId);
    const gate = fixture.stack.s3.sandboxEndpoint;
    const own = `${gate}/${fixture.stack.s3.bucket}/${dependencyCacheObjectKey(userId, first.dependencies.key, 'tar.zst')}`;
    const status = async (command: string) => (await sandbox.run(`curl -s -o /dev/null -w '%{http_code}' ${command}`, { timeoutMs: 30_000 })).stdout;

    // Act
    const unsigned = await status(`'${own}'`);
    const otherObject = await status(`'${gate}/${fixture.stack.s3.bucket}/deployments/${first.deploymentId}/manifest.json'`);
    const s3rverItself = await status(`'${fixture.stack.s3.endpoint}/${fixture.stack.s3.bucket}/${dependencyCacheObjectKey(userId, first.dependencies.key, 'tar.zst')}'`);

    // Assert
    expect(unsigned).toBe('403');
    expect(otherObject).toBe('403');
    // 127.0.0.1 inside is the sandbox's own loopback: nothing listens there.
    expect(s3rverItself).toBe('000');
  });
});
