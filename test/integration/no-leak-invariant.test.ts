/**
 * The no-leak invariant's own checks, against a real local sandbox host and the real process
 * table: it sees a live sandbox's processes (daemons included), finds nothing once the sandbox is
 * killed, names a process a gone sandbox left behind, and fails loudly whenever it cannot see.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import { startLocalHostFixture, type LocalHostFixture } from '../support/local-sandbox-host.ts';
import { expectNoSandboxProcessLeaks, readSandboxHost, type SandboxHostView } from '../support/no-leak-invariant.ts';
import { ProcessTableUnreadableError } from '../support/process-table.ts';
import { SandboxHostUnreadableError } from '../support/sandbox-host-listing.ts';
import { bareSandboxId } from '../support/sandbox-processes.ts';

let fixture: LocalHostFixture;
let provider: AgentSphereProvider;
let host: SandboxHostView;
const started: ChildProcess[] = [];
const servers: Server[] = [];

beforeAll(async () => {
  fixture = await startLocalHostFixture();
  provider = new AgentSphereProvider({ apiKey: fixture.host.apiKey, domain: fixture.host.domain });
  const key = (fixture.host as { operatorKey?: unknown }).operatorKey;
  host = { url: fixture.host.url, registry: fixture.host.registry, ...(typeof key === 'string' ? { operatorKey: key } : {}) };
});

afterEach(async () => {
  // Gone before the next test reads the process table (it carries a gone sandbox's marker).
  await Promise.all(
    started.splice(0).map((child) => {
      const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, 'exit');
      child.kill('SIGKILL');
      return exited;
    }),
  );
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
  await fixture.host.registry.killAll();
});

afterAll(async () => {
  await fixture?.stop();
});

function metadata() {
  return { userId: 'u', projectId: 'p', deploymentId: `d-${Date.now()}`, managedBy: 'coderunner' };
}

/** A sandbox with a daemon that left its process group, and a background command. */
async function busySandbox() {
  const sandbox = await provider.create({ metadata: metadata(), lifetimeSeconds: 120 });
  await sandbox.run('setsid nohup sleep 300 >/dev/null 2>&1 < /dev/null & echo started', { timeoutMs: 10_000 });
  await sandbox.startBackground('sleep 301', { stdoutPath: '/tmp/out.log', stderrPath: '/tmp/err.log' });
  return sandbox;
}

async function commandsOf(pids: readonly number[]): Promise<string[]> {
  return Promise.all(pids.map(async (pid) => (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ')));
}

/** A local HTTP server that answers the operator listing with `body`. */
async function fakeListing(body: unknown, status = 200): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the no-leak invariant', () => {
  it("sees a live sandbox's processes in the process table, its daemon included", async () => {
    // Prepare
    const sandbox = await busySandbox();

    // Act
    const report = await readSandboxHost(host);

    // Assert
    const id = bareSandboxId(sandbox.sandboxId);
    expect(report.listed.map((listed) => listed.sandboxId)).toEqual([sandbox.sandboxId]);
    expect(report.processes).toMatchObject({ leftBehind: [], unattributed: [], invisible: [] });
    // The commands settle into their programs (exec) a moment after they were started.
    await expect
      .poll(async () => commandsOf((await readSandboxHost(host)).processes.seen[id] ?? []))
      .toEqual(expect.arrayContaining([expect.stringMatching(/^sleep 300\b/), expect.stringMatching(/^sleep 301\b/)]));
  });

  it('passes once a busy sandbox is killed: nothing of it is left in the process table', async () => {
    // Prepare
    const sandbox = await busySandbox();

    // Act
    await sandbox.kill();

    // Assert
    const report = await expectNoSandboxProcessLeaks(host);
    expect(report.listed).toEqual([]);
  });

  it('fails naming a process a sandbox the host says is gone left behind', async () => {
    // Prepare
    const sandbox = await busySandbox();
    const { listed } = await readSandboxHost(host);
    const rootDir = listed[0]!.rootDir!;
    await sandbox.kill();
    // What a launcher that lets a daemon escape would leave: a process naming the gone sandbox.
    const leftover = spawn('bash', ['-c', `exec -a "${rootDir}/leftover" sleep 60`], { stdio: 'ignore' });
    started.push(leftover);
    await sleep(100);

    // Act
    const attempt = expectNoSandboxProcessLeaks(host, { settleMs: 300 });

    // Assert
    await expect(attempt).rejects.toThrow(/processes of sandboxes the host says are gone/);
    const report = await readSandboxHost(host);
    expect(report.processes.leftBehind).toEqual([{ sandboxId: bareSandboxId(sandbox.sandboxId), pid: leftover.pid, commandLine: `${rootDir}/leftover 60` }]);
  });

  it("fails loudly when the host's operator listing cannot be read", async () => {
    // Prepare
    const closed = await fakeListing({});
    await new Promise((resolve) => servers.pop()!.close(resolve));

    // Act
    const attempt = readSandboxHost({ url: closed });

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(SandboxHostUnreadableError);
    await expect(attempt).rejects.toThrow(/ECONNREFUSED/);
  });

  it('fails loudly when the host refuses the operator (no key or a wrong one)', async () => {
    // Prepare
    const url = await fakeListing({ message: 'the operator API needs the host operator key' }, 401);

    // Act
    const attempt = readSandboxHost({ url });

    // Assert
    await expect(attempt).rejects.toThrow(/answered 401/);
  });

  it('fails when a live sandbox of the listing cannot be found in the process table', async () => {
    // Prepare
    const url = await fakeListing([{ sandboxId: 'feedfacefeedfacefeed-abcd', metadata: { managedBy: 'coderunner' }, rootDir: '/nowhere/sandboxes/feedfacefeedfacefeed/root', processes: [] }]);

    // Act
    const attempt = expectNoSandboxProcessLeaks({ url }, { settleMs: 0 });

    // Assert
    await expect(attempt).rejects.toThrow(/live sandboxes of which the process table shows no process/);
  });

  it("fails when the host's in-memory registry and its operator listing disagree", async () => {
    // Prepare
    const url = await fakeListing([]);
    const registry = { list: () => [{ fullId: 'only-in-memory-abcd' }] };

    // Act
    const attempt = expectNoSandboxProcessLeaks({ url, registry }, { settleMs: 0 });

    // Assert
    await expect(attempt).rejects.toThrow(/in-memory registry vs its operator listing/);
  });

  it('fails loudly when the process table cannot be read', async () => {
    // Prepare
    const url = await fakeListing([]);

    // Act
    const attempt = readSandboxHost({ url }, { procDir: '/nonexistent-proc' });

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(ProcessTableUnreadableError);
  });
});
