/** Saga step 3, start: install, build and start as the plan says, within the invocation's time. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { APP_DIR, APP_STDERR_LOG, APP_STDOUT_LOG, BUILD_LOG, INSTALL_LOG } from '../../../../functions/shared/deployments/app-layout.ts';
import type { BuildPlan } from '../../../../functions/shared/deployments/build-plan/build-plan.ts';
import { STATIC_SERVER_PATH, STATIC_SERVER_SOURCE } from '../../../../functions/shared/deployments/build-plan/static-server.ts';
import {
  BuildFailedError,
  DeploymentStateError,
  InstallFailedError,
  StepTimeBudgetError,
  UploadIncompleteError,
} from '../../../../functions/shared/deployments/errors.ts';
import { startApp, type StartAppOptions } from '../../../../functions/shared/deployments/steps/start-app.ts';
import type { RunOptions } from '../../../../functions/shared/sandbox/sandbox-provider.ts';
import { SandboxTimeoutError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn, nodePlan, type DeploymentInOptions } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';

const OPTIONS: StartAppOptions = { installTimeoutMs: 480_000, buildTimeoutMs: 300_000, healthTimeoutSeconds: 60 };
const INSTALL_AND_BUILD = nodePlan({
  install: { command: 'npm ci', reason: 'package-lock.json', source: 'detected' },
  build: { command: 'npm run build', reason: 'scripts.build', source: 'detected' },
});
const NPM_CI_WITHOUT_LOCKFILE = [
  'npm error code EUSAGE',
  'npm error',
  'npm error The `npm ci` command can only install with an existing package-lock.json or',
  'npm error npm-shrinkwrap.json with lockfileVersion >= 1. Run an install with npm@5 or',
  'npm error A complete log of this run can be found in: /home/user/.npm/_logs/2030-01-01T00_00_00_000Z-debug-0.log',
];

afterEach(() => {
  vi.useRealTimers();
});

/** A deployment in STARTING (every file uploaded) with the given plan. */
async function starting(plan: BuildPlan = nodePlan(), options: DeploymentInOptions = {}) {
  const ports = createFakePorts();
  const built = await deploymentIn(ports, 'STARTING', { ...options, overrides: { plan, ...options.overrides } });
  ports.journal.clear();
  return { ports, ...built, deploymentId: built.deployment.deploymentId };
}

/** The options each `run` got whose command contains `text`. */
function runsOf(ports: ReturnType<typeof createFakePorts>, text: string): RunOptions[] {
  return ports.journal.calls('sandbox.run', (args) => String(args[1]).includes(text)).map((entry) => entry.args[2] as RunOptions);
}

describe('startApp', () => {
  it('starts the app in the background in the app directory, its output in the app logs, and moves to CHECKING_HEALTH with its pid and deadline', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'UPLOADING');
    await ports.deployments.recordBatch(deployment.deploymentId, 0, deployment.filesTotal);

    // Act
    const { pid } = await startApp(ports.dependencies, deployment.deploymentId, OPTIONS);

    // Assert
    const app = sandbox!.processes.get(pid)!;
    expect(app.command).toContain('node server.js');
    expect(app).toMatchObject({ cwd: APP_DIR, stdoutPath: APP_STDOUT_LOG, stderrPath: APP_STDERR_LOG });
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'CHECKING_HEALTH', appPid: pid, healthDeadline: ports.clock.inSeconds(60) });
  });

  it('refuses to start before every file reached the sandbox, with UploadIncompleteError', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'UPLOADING');

    // Act
    const attempt = startApp(ports.dependencies, deployment.deploymentId, OPTIONS);

    // Assert
    await expect(attempt).rejects.toThrow(UploadIncompleteError);
    await expect(attempt).rejects.toThrow(`only 0 of ${deployment.filesTotal} files reached the sandbox`);
  });

  it('answers a retry after success with the pid it started and starts nothing else', async () => {
    // Prepare
    const { ports, deploymentId } = await starting();
    const first = await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Act
    const retried = await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    expect(retried).toEqual(first);
    expect(ports.journal.calls('sandbox.startBackground')).toHaveLength(1);
  });

  it("kills the app an earlier attempt started before starting it again", async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await starting();
    const earlier = sandbox!.startProcess({ command: 'node server.js', env: {} });
    await ports.deployments.update(deploymentId, { appPid: earlier.pid });

    // Act
    const { pid } = await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    expect(earlier.running).toBe(false);
    expect([...sandbox!.processes.keys()]).toEqual([pid]);
  });

  it('refuses a deployment in another status with DeploymentStateError', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CREATING');

    // Act
    const attempt = startApp(ports.dependencies, deployment.deploymentId, OPTIONS);

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(DeploymentStateError);
  });

  it("propagates the provider's failure with its stable name and stays STARTING", async () => {
    // Prepare
    const { ports, deploymentId } = await starting();
    ports.sandboxes.handleControl.failNext('startBackground', 1, new SandboxTimeoutError('the request timed out'));

    // Act
    const attempt = startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxTimeoutError' });
    expect((await ports.deployments.get(deploymentId))?.status).toBe('STARTING');
  });

  it('runs the install, then the build, each to completion in the app directory with its output in its log, then starts', async () => {
    // Prepare
    const { ports, deploymentId } = await starting(INSTALL_AND_BUILD);

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    const commands = ports.journal.calls().filter((entry) => ['sandbox.run', 'sandbox.startBackground'].includes(entry.name)).map((entry) => String(entry.args[1]));
    expect(commands.map((command) => (command.includes('npm ci') ? 'install' : command.includes('npm run build') ? 'build' : command.includes('node server.js') ? 'start' : command))).toEqual(['install', 'build', 'start']);
    expect(commands[0]).toMatch(new RegExp(`>> ${INSTALL_LOG} 2>&1$`));
    expect(commands[1]).toMatch(new RegExp(`>> ${BUILD_LOG} 2>&1$`));
    expect(runsOf(ports, 'npm ci')[0]?.cwd).toBe(APP_DIR);
  });

  it('fails a failed install with InstallFailedError naming the command, the hint and the cause line, and starts nothing', async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await starting(INSTALL_AND_BUILD);
    sandbox!.onRun('npm ci', (_command, _options, box) => {
      box.appendFile(INSTALL_LOG, NPM_CI_WITHOUT_LOCKFILE.map((line) => `${line}\n`).join(''));
      return { exitCode: 1 };
    });

    // Act
    const attempt = startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    await expect(attempt).rejects.toThrow(InstallFailedError);
    const message = (await attempt.catch((error: Error) => error.message)) as string;
    expect(message.split('\n')[0]).toBe('install command "npm ci" exited with code 1');
    expect(message).toContain('hint: npm ci needs a package-lock.json (or npm-shrinkwrap.json)');
    expect(message).toContain('npm error The `npm ci` command can only install with an existing package-lock.json or');
    expect(ports.journal.calls('sandbox.startBackground')).toHaveLength(0);
  });

  it('fails a failed build with BuildFailedError naming the command, the hint and the cause line', async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await starting(INSTALL_AND_BUILD);
    sandbox!.onRun('npm run build', (_command, _options, box) => {
      box.appendFile(BUILD_LOG, "> build\n> vite build\nError: Cannot find module 'vite'\n");
      return { exitCode: 1 };
    });

    // Act
    const attempt = startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    await expect(attempt).rejects.toThrow(BuildFailedError);
    const message = (await attempt.catch((error: Error) => error.message)) as string;
    expect(message.split('\n')[0]).toBe('build command "npm run build" exited with code 1');
    expect(message).toMatch(/hint: the dependency "vite" is not installed/);
    expect(message).toContain("Error: Cannot find module 'vite'");
  });

  it("says an install the kernel killed went past the sandbox's memory limit", async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await starting(INSTALL_AND_BUILD);
    sandbox!.memory.limitBytes = 512 * 1024 * 1024;
    sandbox!.onRun('npm ci', (_command, _options, box) => {
      box.appendFile(INSTALL_LOG, 'Killed\n');
      box.memory.oomKills += 1;
      return { exitCode: 137 };
    });

    // Act
    const attempt = startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    await expect(attempt).rejects.toThrow(/hint: out of memory: the sandbox's limit is 512 MiB/);
  });

  it('says an install that ran out of its time did not finish within it', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    const { ports, deploymentId, sandbox } = await starting(INSTALL_AND_BUILD);
    sandbox!.onRun('npm ci', (_command, options) => {
      // The daemon ends the command at its deadline.
      vi.setSystemTime(Date.now() + options!.timeoutMs!);
      return { exitCode: 137 };
    });

    // Act
    const attempt = startApp(ports.dependencies, deploymentId, { ...OPTIONS, installTimeoutMs: 120_000 });

    // Assert
    await expect(attempt).rejects.toThrow(/^install command "npm ci" did not finish within 120 s/);
  });

  it('refuses to run a command with too little of the invocation left, with StepTimeBudgetError, and runs nothing', async () => {
    // Prepare
    const { ports, deploymentId } = await starting(INSTALL_AND_BUILD);

    // Act
    const attempt = startApp(ports.dependencies, deploymentId, { ...OPTIONS, remainingMs: () => 14_000 });

    // Assert
    await expect(attempt).rejects.toThrow(StepTimeBudgetError);
    await expect(attempt).rejects.toThrow('only 14 s of the start step are left: not enough to run the install');
    expect(runsOf(ports, 'npm ci')).toHaveLength(0);
    expect((await ports.deployments.get(deploymentId))?.status).toBe('STARTING');
  });

  it("gives each command at most the invocation's remaining time less the margin", async () => {
    // Prepare
    const { ports, deploymentId } = await starting(INSTALL_AND_BUILD);
    let remaining = 100_000;
    ports.sandboxes.onRun('npm ci', () => {
      remaining -= 40_000;
      return {};
    });

    // Act
    await startApp(ports.dependencies, deploymentId, { ...OPTIONS, remainingMs: () => remaining });

    // Assert
    expect(runsOf(ports, 'npm ci')[0]?.timeoutMs).toBe(90_000);
    expect(runsOf(ports, 'npm run build')[0]?.timeoutMs).toBe(50_000);
  });

  it("gives each command its own limit when the invocation has time enough", async () => {
    // Prepare
    const { ports, deploymentId } = await starting(INSTALL_AND_BUILD);

    // Act
    await startApp(ports.dependencies, deploymentId, { ...OPTIONS, remainingMs: () => 900_000 });

    // Assert
    expect(runsOf(ports, 'npm ci')[0]?.timeoutMs).toBe(480_000);
    expect(runsOf(ports, 'npm run build')[0]?.timeoutMs).toBe(300_000);
  });

  it("writes the product's static server before starting when the plan needs it", async () => {
    // Prepare
    const plan = nodePlan({ runtime: 'static', start: { command: `node ${STATIC_SERVER_PATH} .`, reason: 'a static site', source: 'detected' }, providedFiles: ['static-server'] });
    const { ports, deploymentId, sandbox } = await starting(plan);

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    expect(sandbox!.readText(STATIC_SERVER_PATH)).toBe(STATIC_SERVER_SOURCE);
    expect(ports.journal.indexOf('sandbox.writeFiles')).toBeLessThan(ports.journal.indexOf('sandbox.startBackground'));
  });

  it('writes no static server when the plan does not need it', async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await starting();

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    expect(sandbox!.readText(STATIC_SERVER_PATH)).toBeUndefined();
  });

  it("gives the user's env precedence over the plan's, but PORT is always the deployment's port", async () => {
    // Prepare
    const plan = nodePlan({
      ...INSTALL_AND_BUILD,
      env: [
        { name: 'NODE_ENV', value: 'production', reason: 'a production build', phases: ['build', 'start'] },
        { name: 'NEXT_TELEMETRY_DISABLED', value: '1', reason: 'no telemetry', phases: ['start'] },
      ],
    });
    const { ports, deploymentId } = await starting(plan, { env: { NODE_ENV: 'staging', PORT: '9999', API_KEY: 'k' } });

    // Act
    await startApp(ports.dependencies, deploymentId, OPTIONS);

    // Assert
    const started = ports.journal.calls('sandbox.startBackground')[0]!.args[2] as { env: Record<string, string> };
    expect(started.env).toEqual({ HOST: '0.0.0.0', NODE_ENV: 'staging', NEXT_TELEMETRY_DISABLED: '1', API_KEY: 'k', PORT: '3000' });
    expect(runsOf(ports, 'npm ci')[0]?.env).toEqual({ HOST: '0.0.0.0', NODE_ENV: 'staging', API_KEY: 'k', PORT: '3000' });
  });
});
