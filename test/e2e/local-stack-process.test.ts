/**
 * `npm start` as a person runs it: a separate process that prints its API and a token, serves
 * deployments, and on Ctrl-C kills every sandbox and leaves no process behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { processesMatching } from '../support/local-sandbox-host.ts';
import { ApiClient } from '../support/local-stack-fixture.ts';
import { projectFiles } from '../support/project-files.ts';
import { waitForOutput } from '../support/child-output.ts';

const MAIN = fileURLToPath(new URL('../../infra/local/main.ts', import.meta.url));
let workDir: string;
let child: ChildProcess | undefined;

afterAll(async () => {
  child?.kill('SIGKILL');
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe('the local stack as a process', () => {
  it('kills every sandbox and leaves no process behind on Ctrl-C', async () => {
    // Prepare: start it the way `npm start` does, in a scratch directory
    workDir = await mkdtemp(join(tmpdir(), 'coderunner-start-'));
    const home = join(workDir, 'home');
    child = spawn(process.execPath, [MAIN, '--port', '0', '--data-dir', join(workDir, 'data')], { cwd: workDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: home, POWERTOOLS_LOG_LEVEL: 'WARN' } });
    const [, apiUrl] = await waitForOutput(child, /API:\s+(http:\/\/127\.0\.0\.1:\d+)/, 60_000);
    const homeState = join(home, '.coderunner', 'local-stack.json');
    const homeStateWhileRunning = JSON.parse(await readFile(homeState, 'utf8')) as { apiUrl: string };
    const { token } = JSON.parse(await readFile(join(workDir, '.coderunner', 'local-stack.json'), 'utf8')) as { token: string };
    const api = new ApiClient(apiUrl!, token);
    const marker = `marker-${randomUUID()}`;
    const accepted = await api.deploy({
      projectId: 'ctrl-c',
      files: await projectFiles('hello-node'),
      options: { port: 3000, startCommand: `node server.js ${marker}` },
    });
    const running = await api.waitForStatus(accepted.body.deploymentId, ['RUNNING'], 30_000);
    const runningBefore = await processesMatching(marker);
    // The sandbox's bwrap names the sandbox (its hostname, `sandbox-<id>`) on its command line.
    const sandboxMarker = `sandbox-${String(running.sandboxId).split('-')[0]}`;
    const sandboxProcessesBefore = await processesMatching(sandboxMarker);

    // Act
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    const exitCode = await exited;
    await sleep(200);

    // Assert
    expect(runningBefore.length).toBeGreaterThan(0);
    expect(sandboxProcessesBefore.length).toBeGreaterThan(0);
    expect(exitCode).toBe(0);
    expect(await processesMatching(marker)).toEqual([]);
    expect(await processesMatching(sandboxMarker)).toEqual([]);
    // The copy of its state for the CLI outside the checkout is there while it runs, gone after.
    expect(homeStateWhileRunning.apiUrl).toBe(apiUrl);
    expect(await readFile(homeState, 'utf8').catch(() => 'gone')).toBe('gone');
  }, 120_000);

  it('prints one line per status change of a deployment', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'coderunner-started-'));
    const started = spawn(process.execPath, [MAIN, '--port', '0', '--data-dir', join(dir, 'data')], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: join(dir, 'home'), POWERTOOLS_LOG_LEVEL: 'WARN' } });
    try {
      const [, apiUrl] = await waitForOutput(started, /API:\s+(http:\/\/127\.0\.0\.1:\d+)/, 60_000);
      const { token } = JSON.parse(await readFile(join(dir, '.coderunner', 'local-stack.json'), 'utf8')) as { token: string };
      const api = new ApiClient(apiUrl!, token);
      const printed = waitForOutput(started, /deployment (\S+) \[started-lines\]: STOPPING → TERMINATED/, 60_000);
      let lines = '';
      started.stdout!.on('data', (chunk: Buffer) => (lines += chunk.toString()));

      // Act
      const accepted = await api.deploy({ projectId: 'started-lines', files: await projectFiles('hello-node'), options: { startCommand: 'node server.js' } });
      await api.waitForStatus(accepted.body.deploymentId, ['RUNNING'], 30_000);
      await api.delete(accepted.body.deploymentId);
      const [, printedId] = await printed;

      // Assert
      const id = accepted.body.deploymentId as string;
      expect(printedId).toBe(id);
      expect(lines.split('\n').filter((line) => line.startsWith(`deployment ${id} [started-lines]: `)).map((line) => line.split(': ')[1])).toEqual([
        'PENDING',
        'PENDING → CREATING',
        'CREATING → UPLOADING',
        'UPLOADING → STARTING',
        'STARTING → CHECKING_HEALTH',
        'CHECKING_HEALTH → RUNNING',
        'RUNNING → STOPPING',
        'STOPPING → TERMINATED',
      ]);
    } finally {
      const exited = new Promise((resolve) => started.once('exit', resolve));
      started.kill('SIGINT');
      await exited;
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
