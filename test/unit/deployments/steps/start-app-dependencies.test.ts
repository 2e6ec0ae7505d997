/** Saga step 3, start, with the dependency cache: keep, restore or install, and save in the background. */
import { describe, expect, it } from 'vitest';
import { dependencyCacheObjectKey } from '../../../../functions/shared/adapters/s3-dependency-cache.ts';
import { APP_DIR, INSTALL_LOG } from '../../../../functions/shared/deployments/app-layout.ts';
import { DEPENDENCIES_MARKER } from '../../../../functions/shared/deployments/dependency-cache/dependency-probe.ts';
import type { BuildPlan } from '../../../../functions/shared/deployments/build-plan/build-plan.ts';
import type { StagedFile } from '../../../../functions/shared/deployments/ports.ts';
import { startApp, type StartAppOptions } from '../../../../functions/shared/deployments/steps/start-app.ts';
import type { BackgroundOptions, RunOptions } from '../../../../functions/shared/sandbox/sandbox-provider.ts';
import { SandboxTimeoutError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn, nodePlan, type DeploymentInOptions } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts, type FakePorts } from '../../../support/fakes/fake-ports.ts';

const OPTIONS: StartAppOptions = { installTimeoutMs: 480_000, buildTimeoutMs: 300_000, healthTimeoutSeconds: 60 };
const NPM_CI: BuildPlan = nodePlan({
  packageManager: { name: 'npm', reason: 'package-lock.json found' },
  install: { command: 'npm ci', reason: 'package-lock.json found', source: 'detected' },
  start: { command: 'npm start', reason: 'scripts.start', source: 'detected' },
});
const RESTORE = 'could not be restored from cache';
const SAVE = 'dependencies saved to the cache';

function projectFiles(lockfile = '{"lockfileVersion":3,"packages":{"node_modules/express":{"version":"4.21.2"}}}', packageJson = '{"name":"app","scripts":{"start":"node server.js"}}'): StagedFile[] {
  return [
    { path: 'server.js', content: Buffer.from("require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT)") },
    { path: 'package.json', content: Buffer.from(packageJson) },
    { path: 'package-lock.json', content: Buffer.from(lockfile) },
  ];
}

/** A deployment in STARTING with the project's files in its sandbox. */
async function starting(ports: FakePorts, options: DeploymentInOptions & { plan?: BuildPlan } = {}) {
  const built = await deploymentIn(ports, 'STARTING', { files: projectFiles(), ...options, overrides: { plan: options.plan ?? NPM_CI, ...options.overrides } });
  return { ...built, deploymentId: built.deployment.deploymentId };
}

/** The commands one deployment's sandbox ran or started, in order, by what they are. */
function stepsOf(ports: FakePorts, sandboxId: string): string[] {
  return ports.journal
    .calls()
    .filter((entry) => ['sandbox.run', 'sandbox.startBackground'].includes(entry.name) && entry.args[0] === sandboxId)
    .map((entry) => String(entry.args[1]))
    .map((command) => {
      if (command.includes('echo "node=$(node --version')) return 'probe';
      if (command.includes(SAVE)) return 'save';
      if (command.includes(RESTORE)) return 'restore';
      if (command.includes('npm ci')) return 'install';
      if (command.includes('npm start')) return 'start';
      if (command.includes('dependencies kept from the previous deployment') || command.includes('CR_CACHE_MESSAGE')) return 'log line';
      return command;
    });
}

function backgroundOptions(ports: FakePorts, text: string): BackgroundOptions[] {
  return ports.journal.calls('sandbox.startBackground', (args) => String(args[1]).includes(text)).map((entry) => entry.args[2] as BackgroundOptions);
}

function runOptions(ports: FakePorts, text: string): RunOptions[] {
  return ports.journal.calls('sandbox.run', (args) => String(args[1]).includes(text)).map((entry) => entry.args[2] as RunOptions);
}

/** Deploys the project once so that its install is saved, and answers the key it was saved under. */
async function installedOnce(ports: FakePorts, userId = 'user-1'): Promise<string> {
  const { deploymentId } = await starting(ports, { overrides: { userId } });
  await startApp(ports.dependencies, deploymentId, OPTIONS);
  const { dependencies } = (await ports.deployments.get(deploymentId))!;
  // What the background save leaves in the bucket once it is done.
  ports.dependencyCache.store(userId, dependencies!.key!, 'tar.zst', 4 * 1024 * 1024);
  return dependencies!.key!;
}

describe('startApp with the dependency cache', () => {
  it('on a miss installs, starts the app, then saves node_modules in the background with a presigned PUT of the owner\'s key', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deploymentId, sandbox } = await starting(ports);
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    const record = (await ports.deployments.get(deploymentId))!;
    expect(stepsOf(ports, sandbox!.sandboxId)).toEqual(['probe', 'install', 'start', 'save']);
    expect(record.status).toBe('CHECKING_HEALTH');
    expect(record.dependencies).toMatchObject({ source: 'installed', cache: 'miss', lockfile: 'package-lock.json', saving: true, archive: { format: 'tar.zst' } });
    expect(record.dependencies!.key).toMatch(/^[0-9a-f]{64}$/);
    const [save] = backgroundOptions(ports, SAVE);
    expect(save).toMatchObject({ cwd: APP_DIR, stdoutPath: INSTALL_LOG, stderrPath: INSTALL_LOG });
    expect(save!.env!.CR_CACHE_URL).toBe(`memory://${dependencyCacheObjectKey('user-1', record.dependencies!.key!, 'tar.zst')}?put`);
    expect(ports.journal.calls('sandbox.run', (args) => String(args[1]).includes('no cached dependencies for this package-lock.json yet'))).toHaveLength(1);
  });

  it('restores an unchanged lockfile from the cache in a new sandbox and skips the install, saying "dependencies restored from cache"', async () => {
    // Prepare
    const ports = createFakePorts();
    const key = await installedOnce(ports);
    const { deploymentId, sandbox } = await starting(ports);
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    const record = (await ports.deployments.get(deploymentId))!;
    expect(stepsOf(ports, sandbox!.sandboxId)).toEqual(['probe', 'restore', 'start']);
    expect(record.dependencies).toMatchObject({ key, source: 'cache', cache: 'hit', archive: { format: 'tar.zst', bytes: 4 * 1024 * 1024 } });
    expect(record.dependencies!.message).toMatch(/^dependencies restored from cache \(package-lock.json unchanged, key [0-9a-f]{12}, 4.0 MiB tar.zst\): install skipped$/);
    expect(record.plan!.notes).toContain(record.dependencies!.message);
    const [restore] = runOptions(ports, RESTORE);
    expect(restore).toMatchObject({ cwd: APP_DIR, env: { CR_CACHE_URL: `memory://${dependencyCacheObjectKey('user-1', key, 'tar.zst')}?get`, CR_CACHE_KEY: key } });
    expect(restore!.env!.CR_CACHE_MESSAGE).toBe(record.dependencies!.message);
  });

  it('misses for a changed lockfile', async () => {
    // Prepare
    const ports = createFakePorts();
    const key = await installedOnce(ports);
    const { deploymentId, sandbox } = await starting(ports, { files: projectFiles('{"lockfileVersion":3,"packages":{"node_modules/express":{"version":"5.1.0"}}}') });
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    const record = (await ports.deployments.get(deploymentId))!;
    expect(stepsOf(ports, sandbox!.sandboxId)).toEqual(['probe', 'install', 'start', 'save']);
    expect(record.dependencies).toMatchObject({ source: 'installed', cache: 'miss' });
    expect(record.dependencies!.key).not.toBe(key);
  });

  it("never uses another owner's entry for the same lockfile", async () => {
    // Prepare
    const ports = createFakePorts();
    await installedOnce(ports, 'user-1');
    const { deploymentId, sandbox } = await starting(ports, { overrides: { userId: 'user-2' } });
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    expect(stepsOf(ports, sandbox!.sandboxId)).toEqual(['probe', 'install', 'start', 'save']);
    expect((await ports.deployments.get(deploymentId))!.dependencies).toMatchObject({ source: 'installed', cache: 'miss' });
    expect(ports.journal.calls('dependencyCache.find').map((entry) => entry.args[0])).toEqual(['user-2']);
    expect(backgroundOptions(ports, SAVE)[0]!.env!.CR_CACHE_URL).toContain(dependencyCacheObjectKey('user-2', (await ports.deployments.get(deploymentId))!.dependencies!.key!, 'tar.zst'));
  });

  it('falls back to a normal install when the archive cannot be restored, says so, and saves a fresh archive over it', async () => {
    // Prepare
    const ports = createFakePorts();
    await installedOnce(ports);
    const { deploymentId, sandbox } = await starting(ports);
    sandbox!.onRun(RESTORE, {
      exitCode: 3,
      stdout: '2030-01-01T00:00:00.000Z zstd: /*stdin*\\: unknown header\n2030-01-01T00:00:00.001Z dependencies could not be restored from cache (the archive could not be downloaded or unpacked): installing them\n',
    });
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    const record = (await ports.deployments.get(deploymentId))!;
    expect(stepsOf(ports, sandbox!.sandboxId)).toEqual(['probe', 'restore', 'install', 'start', 'save']);
    expect(record.status).toBe('CHECKING_HEALTH');
    expect(record.dependencies).toMatchObject({ source: 'installed', cache: 'unreadable', saving: true });
    expect(record.dependencies!.message).toContain('the cached dependencies could not be restored (the archive could not be downloaded or unpacked): installing them');
  });

  it('removes what a restore cut short by its deadline unpacked, then installs', async () => {
    // Prepare
    const ports = createFakePorts();
    await installedOnce(ports);
    const { deploymentId, sandbox } = await starting(ports);
    sandbox!.onRun(RESTORE, () => {
      throw new SandboxTimeoutError('the command did not finish within 180 s');
    });
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    expect(stepsOf(ports, sandbox!.sandboxId)).toEqual(['probe', 'restore', 'rm -rf node_modules', 'install', 'start', 'save']);
    expect((await ports.deployments.get(deploymentId))!.dependencies).toMatchObject({ source: 'installed', cache: 'unreadable' });
    expect((await ports.deployments.get(deploymentId))!.dependencies!.message).toContain('(the restore failed: the command did not finish within 180 s)');
  });

  it('installs as without a cache when the cache cannot be read, and still reaches CHECKING_HEALTH', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deploymentId, sandbox } = await starting(ports);
    ports.dependencyCache.control.failNext('find', 1, Object.assign(new Error('Service Unavailable'), { name: 'ServiceUnavailable' }));
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    const record = (await ports.deployments.get(deploymentId))!;
    expect(stepsOf(ports, sandbox!.sandboxId)).toEqual(['probe', 'install', 'start', 'save']);
    expect(record).toMatchObject({ status: 'CHECKING_HEALTH', dependencies: { source: 'installed', cache: 'miss' } });
    expect(record.dependencies!.message).toContain('the dependency cache could not be read (Service Unavailable)');
  });

  it('never fails the deployment when the save cannot start', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deploymentId } = await starting(ports);
    ports.dependencyCache.control.failNext('saveUrl', 1, new Error('no credentials'));

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    const record = (await ports.deployments.get(deploymentId))!;
    expect(record).toMatchObject({ status: 'CHECKING_HEALTH', dependencies: { source: 'installed', cache: 'miss', saving: false } });
    expect(record.dependencies!.message).toContain('(the save could not start: no credentials)');
  });

  it('keeps node_modules on a redeploy whose previous deployment installed under the same key, running no install and looking nothing up', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING', { files: projectFiles(), overrides: { plan: NPM_CI } });
    const key = await installedOnce(ports);
    await ports.deployments.update(previous.deployment.deploymentId, { dependencies: { key, source: 'installed', cache: 'miss', message: '' } });
    const { deploymentId, sandbox } = await starting(ports, {
      overrides: { reusedFrom: { deploymentId: previous.deployment.deploymentId, sandboxId: previous.sandbox!.sandboxId } },
    });
    sandbox!.writeFile(`${APP_DIR}/${DEPENDENCIES_MARKER}`, key);
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    const record = (await ports.deployments.get(deploymentId))!;
    expect(stepsOf(ports, sandbox!.sandboxId)).toEqual(['probe', 'log line', 'start']);
    expect(ports.journal.calls('dependencyCache.find')).toEqual([]);
    expect(record.dependencies).toMatchObject({ key, source: 'kept-from-previous-deployment', cache: 'kept' });
    expect(record.dependencies!.message).toMatch(/^dependencies kept from the previous deployment \(package-lock.json unchanged, key [0-9a-f]{12}\): install skipped$/);
  });

  it('does not keep node_modules on a redeploy whose lockfile changed', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING', { files: projectFiles(), overrides: { plan: NPM_CI } });
    const key = await installedOnce(ports);
    await ports.deployments.update(previous.deployment.deploymentId, { dependencies: { key, source: 'installed', cache: 'miss', message: '' } });
    const { deploymentId, sandbox } = await starting(ports, {
      files: projectFiles('{"lockfileVersion":3,"packages":{"node_modules/left-pad":{"version":"1.3.0"}}}'),
      overrides: { reusedFrom: { deploymentId: previous.deployment.deploymentId, sandboxId: previous.sandbox!.sandboxId } },
    });
    sandbox!.writeFile(`${APP_DIR}/${DEPENDENCIES_MARKER}`, key);
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    expect(stepsOf(ports, sandbox!.sandboxId)).toEqual(['probe', 'install', 'start', 'save']);
    expect((await ports.deployments.get(deploymentId))!.dependencies).toMatchObject({ source: 'installed', cache: 'miss' });
  });

  it("stops an earlier deployment's save still running before it changes node_modules, and leaves it running when it keeps them", async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING', { files: projectFiles(), overrides: { plan: NPM_CI } });
    const key = await installedOnce(ports);
    await ports.deployments.update(previous.deployment.deploymentId, { dependencies: { key, source: 'installed', cache: 'miss', message: '' } });
    const redeploy = (files: StagedFile[]) =>
      starting(ports, { files, overrides: { reusedFrom: { deploymentId: previous.deployment.deploymentId, sandboxId: previous.sandbox!.sandboxId } } });
    const save = (sandbox: NonNullable<Awaited<ReturnType<typeof redeploy>>['sandbox']>) => {
      sandbox.writeFile(`${APP_DIR}/${DEPENDENCIES_MARKER}`, key);
      return sandbox.startProcess({ command: `bash -c '... ${SAVE}'`, env: {} });
    };
    const changed = await redeploy(projectFiles('{"lockfileVersion":3,"packages":{}}'));
    const unchanged = await redeploy(projectFiles());
    const changedSave = save(changed.sandbox!);
    const unchangedSave = save(unchanged.sandbox!);
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, changed.deploymentId, OPTIONS);
    await startApp(ports.dependencies, unchanged.deploymentId, OPTIONS);

    // Assert
    expect(stepsOf(ports, changed.sandbox!.sandboxId).slice(0, 3)).toEqual(['probe', `kill -TERM -- -${changedSave.pid} 2>/dev/null; true`, 'install']);
    expect(changedSave.running).toBe(false);
    expect(stepsOf(ports, unchanged.sandbox!.sandboxId)).toEqual(['probe', 'log line', 'start']);
    expect(unchangedSave.running).toBe(true);
  });

  it('installs without caching, saying why, when package.json runs a script at install time', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deploymentId, sandbox } = await starting(ports, { files: projectFiles(undefined, '{"name":"app","scripts":{"postinstall":"node generate.js"}}') });
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    expect(stepsOf(ports, sandbox!.sandboxId)).toEqual(['probe', 'install', 'start']);
    expect((await ports.deployments.get(deploymentId))!.dependencies).toEqual({
      durationMs: expect.any(Number),
      key: null,
      lockfile: 'package-lock.json',
      source: 'installed',
      cache: 'off',
      message: `dependencies are installed, not cached: package.json's "postinstall" script runs at install time and may write outside node_modules`,
    });
  });

  it('asks the sandbox nothing when the plan installs with no package manager the cache knows', async () => {
    // Prepare
    const ports = createFakePorts();
    const plan = nodePlan({ install: { command: 'make deps', reason: 'the installCommand option', source: 'option' } });
    const { deploymentId, sandbox } = await starting(ports, { plan });
    ports.journal.clear();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    expect(stepsOf(ports, sandbox!.sandboxId).filter((step) => step === 'probe')).toEqual([]);
    expect((await ports.deployments.get(deploymentId))!.dependencies).toMatchObject({ key: null, cache: 'off' });
  });
});
