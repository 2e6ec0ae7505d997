/**
 * Crash of the orchestrator: the sandbox host runs as its own process (like the cloud); the
 * orchestrating process is SIGKILLed mid-deployment, started again on the same data directory,
 * and one sweep leaves no orphan and a terminal record with its cause.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/local-stack-fixture.ts';
import { projectFiles } from '../support/project-files.ts';
import { waitForOutput } from '../support/child-output.ts';

const STACK_MAIN = fileURLToPath(new URL('../../infra/local/main.ts', import.meta.url));
const HOST_MAIN = fileURLToPath(new URL('../../infra/local/sandbox-host/main.ts', import.meta.url));
const HOST_KEY = 'as_crash_test_key';
const HOST_OPERATOR_KEY = 'op_crash_test_operator_key';
const children: ChildProcess[] = [];
let workDir: string;

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function start(script: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [script, ...args], {
    cwd: workDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, HOME: workDir, POWERTOOLS_LOG_LEVEL: 'ERROR', ...env },
  });
  children.push(child);
  return child;
}

async function startOrchestrator(hostUrl: string): Promise<{ child: ChildProcess; api: ApiClient; operatorUrl: string; operatorKey: string }> {
  const child = start(
    STACK_MAIN,
    ['--port', '0', '--data-dir', join(workDir, 'data'), '--sandbox-host-url', hostUrl, '--sandbox-host-key', HOST_KEY,
      '--sandbox-host-operator-key', HOST_OPERATOR_KEY, '--sweep-interval', '0'],
    // The app below never becomes healthy; a record counts as stuck 1 s after no execution runs it.
    { HEALTH_TIMEOUT_SECONDS: '600', SWEEP_IN_FLIGHT_GRACE_SECONDS: '1' },
  );
  const [, apiUrl] = await waitForOutput(child, /API:\s+(http:\/\/127\.0\.0\.1:\d+)/);
  const state = JSON.parse(await readFile(join(workDir, '.coderunner', 'local-stack.json'), 'utf8')) as { token: string; operatorUrl: string; operatorKey: string };
  return { child, api: new ApiClient(apiUrl!, state.token), operatorUrl: state.operatorUrl, operatorKey: state.operatorKey };
}

async function hostSandboxes(hostUrl: string): Promise<{ sandboxId: string; metadata: Record<string, string> }[]> {
  const response = await fetch(`${hostUrl}/_host/sandboxes`, { headers: { authorization: `Bearer ${HOST_OPERATOR_KEY}` } });
  return (await response.json()) as { sandboxId: string; metadata: Record<string, string> }[];
}

describe('crash of the orchestrator', () => {
  it('leaves no orphaned sandbox and a terminal record with its cause after a restart and one sweep', async () => {
    // Prepare: a sandbox host process, and an orchestrator deploying an app that never gets healthy
    workDir = await mkdtemp(join(tmpdir(), 'coderunner-crash-'));
    const host = start(HOST_MAIN, ['--port', '0', '--state-dir', join(workDir, 'host'), '--api-key', HOST_KEY, '--operator-key', HOST_OPERATOR_KEY]);
    const [, hostUrl] = await waitForOutput(host, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const first = await startOrchestrator(hostUrl!);
    const accepted = await first.api.deploy({
      projectId: 'crash',
      files: await projectFiles('hello-node'),
      options: { port: 3000, startCommand: `node -e "require('http').createServer((q,s)=>{s.statusCode=503;s.end()}).listen(process.env.PORT)"` },
    });
    const midway = await first.api.waitForStatus(accepted.body.deploymentId, ['CHECKING_HEALTH'], 30_000);

    // Act: SIGKILL the orchestrator mid-deployment; start it again on the same data; sweep once
    const killed = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await killed;
    const orphanedWhileDown = (await hostSandboxes(hostUrl!)).filter((sandbox) => sandbox.metadata.deploymentId === midway.deploymentId);
    const second = await startOrchestrator(hostUrl!);
    const sweep = await fetch(`${second.operatorUrl}/sweep`, { method: 'POST', headers: { authorization: `Bearer ${second.operatorKey}` } });
    const report = (await sweep.json()) as { phases: { stuck: { marked: number; killed: number } } };
    const after = await second.api.get(midway.deploymentId);

    // Assert
    expect(orphanedWhileDown.map((sandbox) => sandbox.sandboxId)).toEqual([midway.sandboxId]);
    expect(report.phases.stuck).toMatchObject({ marked: 1, killed: 1 });
    expect(after.body).toMatchObject({ status: 'FAILED', error: { step: 'health', name: 'DeploymentStuckError', message: 'stuck in health: no execution runs it' } });
    expect(await hostSandboxes(hostUrl!)).toEqual([]);
  }, 120_000);
});
