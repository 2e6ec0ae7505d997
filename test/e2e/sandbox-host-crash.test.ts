/**
 * A sandbox host that is SIGKILLed leaves no sandbox process behind (bwrap dies with it), and the
 * next host on the same state directory reaps what the kernel does not: the sandbox's cgroups,
 * its loop disk, its staged trees and the lease of its uid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { routeAgentSphereToLocalHost } from '../../infra/local/agentsphere-routing.ts';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import { LEASE_DIR, type SandboxLease } from '../../infra/local/sandbox-host/bubblewrap/sandbox-leases.ts';
import { processesMatching } from '../support/local-sandbox-host.ts';
import { waitForOutput } from '../support/child-output.ts';

const HOST_MAIN = fileURLToPath(new URL('../../infra/local/sandbox-host/main.ts', import.meta.url));
const API_KEY = 'as_host_crash_test_key';
const children: ChildProcess[] = [];
let workDir: string | undefined;

afterAll(async () => {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

async function startHost(stateDir: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [HOST_MAIN, '--port', '0', '--state-dir', stateDir, '--api-key', API_KEY], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const [, url] = await waitForOutput(child, /listening on (http:\/\/127\.0\.0\.1:\d+)/);
  return { child, url: url! };
}

async function leaseOf(sandboxId: string): Promise<SandboxLease | undefined> {
  for (const name of await readdir(LEASE_DIR).catch(() => [] as string[])) {
    const lease = JSON.parse(await readFile(join(LEASE_DIR, name), 'utf8').catch(() => '{}')) as SandboxLease;
    if (lease.sandboxId === sandboxId) return lease;
  }
  return undefined;
}

async function isMounted(path: string): Promise<boolean> {
  return (await readFile('/proc/self/mountinfo', 'utf8')).split('\n').some((line) => line.split(' ')[4] === path);
}

async function waitUntil(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(50);
  }
  return check();
}

describe.skipIf(process.getuid?.() !== 0)('a crashed sandbox host', () => {
  it('leaves no sandbox process, and the next host reaps its cgroups, disk, staged trees and uid', async () => {
    // Prepare: a host process with one sandbox running a marked process
    workDir = await mkdtemp(join(tmpdir(), 'coderunner-host-crash-'));
    const stateDir = join(workDir, 'host');
    const first = await startHost(stateDir);
    const unroute = routeAgentSphereToLocalHost({ hostUrl: first.url, domain: 'agentsphere.localhost' });
    const marker = `${920_000 + Math.floor(Math.random() * 9_999)}`;
    let sandboxId: string;
    try {
      const provider = new AgentSphereProvider({ apiKey: API_KEY, domain: 'agentsphere.localhost' });
      const sandbox = await provider.create({ metadata: { userId: 'crash', projectId: 'crash', deploymentId: randomUUID() }, lifetimeSeconds: 300 });
      await sandbox.startBackground(`sleep ${marker}`, { stdoutPath: 'o', stderrPath: 'e' });
      sandboxId = sandbox.sandboxId.split('-')[0]!;
    } finally {
      unroute();
    }
    const lease = await leaseOf(sandboxId);
    expect(lease).toBeDefined();
    expect(await processesMatching(`sleep ${marker}`)).toHaveLength(1);

    // Act: SIGKILL the host; then start another on the same state directory
    const exited = new Promise((resolve) => first.child.once('exit', resolve));
    first.child.kill('SIGKILL');
    await exited;
    const processesGone = await waitUntil(async () => (await processesMatching(`sleep ${marker}`)).length === 0);
    const leftBehind = {
      lease: (await leaseOf(sandboxId)) !== undefined,
      cgroups: Object.values(lease!.cgroups).every((dir) => existsSync(dir)),
      disk: await isMounted(lease!.disk!.mountPoint),
      stage: await isMounted(lease!.stage!),
    };
    await startHost(stateDir);

    // Assert
    expect(processesGone).toBe(true);
    expect(leftBehind).toEqual({ lease: true, cgroups: true, disk: true, stage: true });
    expect(await leaseOf(sandboxId)).toBeUndefined();
    expect(Object.values(lease!.cgroups).filter((dir) => existsSync(dir))).toEqual([]);
    expect(await isMounted(lease!.disk!.mountPoint)).toBe(false);
    expect(await isMounted(lease!.stage!)).toBe(false);
    expect(existsSync(lease!.disk!.image)).toBe(false);
  }, 60_000);
});
