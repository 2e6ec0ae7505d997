/**
 * Contract of the sandbox port, run with the production AgentSphere adapter (the real SDK)
 * against the local sandbox host, or, with CODERUNNER_CONTRACT_TARGET=cloud (what
 * `npm run test:contract:cloud` sets when AGENTSPHERE_API_KEY is there), against the real
 * AgentSphere. Tests that need the local host (fault injection, its process table, its registry)
 * only run locally.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import {
  SandboxConfigurationError,
  SandboxGoneError,
  SandboxNotFoundError,
  SandboxRateLimitedError,
  SandboxUnauthorizedError,
} from '../../functions/shared/sandbox/errors.ts';
import type { SandboxMetadata } from '../../functions/shared/sandbox/sandbox-provider.ts';
import { processesMatching, startLocalHostFixture, type LocalHostFixture } from '../support/local-sandbox-host.ts';

const cloud = process.env.CODERUNNER_CONTRACT_TARGET === 'cloud';
/** A test that needs the local sandbox host itself. */
const localOnly = it.skipIf(cloud);
let fixture: LocalHostFixture;
let provider: AgentSphereProvider;
let domain: string;
let apiKey: string;

beforeAll(async () => {
  if (cloud) {
    apiKey = process.env.AGENTSPHERE_API_KEY ?? '';
    domain = process.env.AGENTSPHERE_DOMAIN ?? 'agentsphere.run';
  } else {
    fixture = await startLocalHostFixture();
    apiKey = fixture.host.apiKey;
    domain = fixture.host.domain;
  }
  provider = new AgentSphereProvider({ apiKey, domain });
});

afterAll(async () => {
  await fixture?.stop();
});

function metadataFor(userId = `user-${randomUUID()}`): SandboxMetadata {
  return { userId, projectId: 'project-1', deploymentId: randomUUID() };
}

function serverCommand(port: number, body: string): string {
  return `node -e "require('http').createServer((q,s)=>s.end('${body}')).listen(${port})"`;
}

async function waitForPort(url: string): Promise<Response> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const response = await fetch(url).catch(() => undefined);
    if (response?.ok) return response;
    await sleep(50);
  }
  throw new Error(`${url} never answered`);
}

describe('creating and finding sandboxes', () => {
  it('lists a sandbox by its metadata and not for another user', async () => {
    // Prepare
    const mine = metadataFor();
    const theirs = metadataFor();
    const sandbox = await provider.create({ metadata: mine, lifetimeSeconds: 60 });
    const other = await provider.create({ metadata: theirs, lifetimeSeconds: 60 });

    // Act
    const found = await provider.list({ userId: mine.userId });

    // Assert
    expect(found.map((summary) => summary.sandboxId)).toEqual([sandbox.sandboxId]);
    expect(found[0]!.metadata).toMatchObject(mine);
    expect(found[0]!.expiresAt.getTime()).toBeGreaterThan(Date.now());
    await Promise.all([sandbox.kill(), other.kill()]);
  });

  it('connects to a live sandbox by its id', async () => {
    const created = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });
    await created.writeFiles([{ path: 'marker.txt', content: 'hello' }]);

    const connected = await provider.connect(created.sandboxId);

    expect(new TextDecoder().decode(await connected.readFile('/home/user/marker.txt'))).toBe('hello');
    await connected.kill();
  });
});

describe('files', () => {
  it('writes 1,000 small files in batches and reads them back byte for byte', async () => {
    // Prepare
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 120 });
    const files = Array.from({ length: 1_000 }, (_, index) => ({
      path: `app/dir${index % 10}/file${index}.${index % 3 === 0 ? 'bin' : 'txt'}`,
      content: index % 3 === 0 ? new Uint8Array([0, 255, index % 256, 10, 13, 0]) : `file ${index} ✓\n`,
    }));

    // Act
    for (let start = 0; start < files.length; start += 250) await sandbox.writeFiles(files.slice(start, start + 250));

    // Assert
    for (const index of [0, 1, 2, 333, 998, 999]) {
      const expected = files[index]!.content;
      const bytes = typeof expected === 'string' ? new TextEncoder().encode(expected) : expected;
      expect(await sandbox.readFile(files[index]!.path)).toEqual(bytes);
    }
    const count = await sandbox.run('find app -type f | wc -l');
    expect(count.stdout.trim()).toBe('1000');
    await sandbox.kill();
  });

  it('reads an empty file as zero bytes', async () => {
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });
    await sandbox.writeFiles([{ path: 'empty.txt', content: '' }]);

    const content = await sandbox.readFile('empty.txt');

    expect(content).toEqual(new Uint8Array());
    await sandbox.kill();
  });
});

describe('commands', () => {
  it('returns the exit code and stderr of a failing command', async () => {
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });

    const result = await sandbox.run('echo partial; echo broken >&2; exit 7');

    expect(result).toEqual({ exitCode: 7, stdout: 'partial\n', stderr: 'broken\n' });
    await sandbox.kill();
  });

  it('serves a background server through the port URL and to a later command at localhost', async () => {
    // Prepare
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });
    const port = 3000;

    // Act
    const { pid } = await sandbox.startBackground(serverCommand(port, 'hello from the sandbox'), {
      stdoutPath: '/home/user/.logs/app.out.log',
      stderrPath: '/home/user/.logs/app.err.log',
    });
    const response = await waitForPort(sandbox.portUrl(port));
    const fromInside = await sandbox.run(`curl -s http://localhost:${port}/ || node -e "fetch('http://localhost:${port}/').then(r=>r.text()).then(console.log)"`);

    // Assert
    expect(pid).toBeGreaterThan(0);
    expect(await response.text()).toBe('hello from the sandbox');
    expect(fromInside.stdout).toContain('hello from the sandbox');
    expect((await sandbox.listProcesses()).map((process) => process.pid)).toContain(pid);
    await sandbox.kill();
  });

  localOnly('gives a background process no deadline, unlike a foreground command', async () => {
    // Prepare
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });
    const { pid } = await sandbox.startBackground('sleep 300', { stdoutPath: 'bg.out', stderrPath: 'bg.err' });
    const foreground = sandbox.run('sleep 2');
    await sleep(300);

    // Act: the host records the deadline each process was given (Connect-Timeout-Ms)
    const [hosted] = fixture.host.registry.list().filter((candidate) => candidate.fullId === sandbox.sandboxId);
    const deadlines = [...hosted!.processes.values()].map((process) => ({ pid: process.pid, deadlineMs: process.deadlineMs }));

    // Assert
    expect(deadlines).toContainEqual({ pid, deadlineMs: null });
    expect(deadlines.filter((entry) => entry.pid !== pid).map((entry) => entry.deadlineMs)).toEqual([60_000]);
    await foreground;
    await sandbox.kill();
  });

  it('writes a background process output to its log files', async () => {
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });

    await sandbox.startBackground('echo to-out; echo to-err >&2', { stdoutPath: 'logs/out.log', stderrPath: 'logs/err.log' });
    await sleep(500);

    expect(new TextDecoder().decode(await sandbox.readFile('logs/out.log'))).toBe('to-out\n');
    expect(new TextDecoder().decode(await sandbox.readFile('logs/err.log'))).toBe('to-err\n');
    await sandbox.kill();
  });

  it('does not let a command see the host process environment', async () => {
    // Prepare
    process.env.CODERUNNER_HOST_SECRET = 'host-only-secret';
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60, env: { GIVEN: 'yes' } });

    // Act
    const result = await sandbox.run('env; cat /proc/1/environ | tr "\\0" "\\n"', { env: { PER_COMMAND: 'also' } });

    // Assert
    expect(result.stdout).not.toContain('host-only-secret');
    expect(result.stdout).toContain('GIVEN=yes');
    expect(result.stdout).toContain('PER_COMMAND=also');
    delete process.env.CODERUNNER_HOST_SECRET;
    await sandbox.kill();
  });
});

describe('ending sandboxes', () => {
  it('fails port and daemon calls with the sandbox-gone error after kill, and kills again without error', async () => {
    // Prepare
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });
    const port = 3000;
    await sandbox.startBackground(serverCommand(port, 'up'), { stdoutPath: 'o', stderrPath: 'e' });
    await waitForPort(sandbox.portUrl(port));

    // Act
    await provider.kill(sandbox.sandboxId);

    // Assert
    expect((await fetch(sandbox.portUrl(port))).status).toBe(502);
    await expect(sandbox.run('true')).rejects.toBeInstanceOf(SandboxGoneError);
    await expect(sandbox.readFile('o')).rejects.toBeInstanceOf(SandboxGoneError);
    expect(await sandbox.isAlive()).toBe(false);
    await expect(provider.kill(sandbox.sandboxId)).resolves.toBeUndefined();
    await expect(sandbox.kill()).resolves.toBeUndefined();
  });

  it('ends a sandbox on its own when its lifetime is over', async () => {
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 1 });

    await sleep(1_500);

    expect(await provider.isAlive(sandbox.sandboxId)).toBe(false);
    await expect(sandbox.run('true')).rejects.toBeInstanceOf(SandboxGoneError);
  });

  it('extends the lifetime of a live sandbox', async () => {
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 1 });

    await provider.extendLifetime(sandbox.sandboxId, 30);
    await sleep(1_500);

    expect(await sandbox.isAlive()).toBe(true);
    await sandbox.kill();
  });

  localOnly('leaves no process behind after kill, even ones that daemonized themselves', async () => {
    // Prepare
    const marker = String(900_000 + Math.floor(Math.random() * 99_999));
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });
    await sandbox.run(
      `setsid sleep ${marker}1 >/dev/null 2>&1 < /dev/null & ` +
        `(nohup sleep ${marker}2 >/dev/null 2>&1 &) ; ` +
        `( ( sleep ${marker}3 >/dev/null 2>&1 & ) & ) ; true`,
    );
    await sandbox.startBackground(`sleep ${marker}4`, { stdoutPath: 'o', stderrPath: 'e' });
    expect((await processesMatching(`sleep ${marker}`)).length).toBeGreaterThanOrEqual(4);

    // Act
    await sandbox.kill();

    // Assert
    expect(await processesMatching(`sleep ${marker}`)).toEqual([]);
  });
});

describe('error mapping', () => {
  it('reports a wrong API key as unauthorized', async () => {
    const wrong = new AgentSphereProvider({ apiKey: 'as_wrong_key', domain });

    await expect(wrong.list({})).rejects.toBeInstanceOf(SandboxUnauthorizedError);
  });

  it('reports an unknown sandbox id as not found', async () => {
    await expect(provider.connect(`00000000000000000000-${cloud ? '00000000' : fixture.host.registry.clientId}`)).rejects.toBeInstanceOf(
      SandboxNotFoundError,
    );
  });

  it('refuses to run without an API key before sending anything', () => {
    expect(() => new AgentSphereProvider({ apiKey: '', domain })).toThrow(SandboxConfigurationError);
  });

  localOnly('retries a rate-limited call until it passes', async () => {
    // Prepare
    const firedBefore = fixture.host.faults.fired;
    fixture.host.faults.add({ target: 'control-plane', status: 429, times: 2, method: 'GET' });

    // Act
    const listed = await provider.list({ userId: 'nobody' });

    // Assert
    expect(listed).toEqual([]);
    expect(fixture.host.faults.fired - firedBefore).toBe(2);
  });

  localOnly('retries a server error from the sandbox daemon until it passes', async () => {
    // Prepare
    const sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });
    const firedBefore = fixture.host.faults.fired;
    fixture.host.faults.add({ target: 'daemon', status: 503, times: 1, pathIncludes: '/files' });

    // Act
    await sandbox.writeFiles([{ path: 'retried.txt', content: 'ok' }]);

    // Assert
    expect(fixture.host.faults.fired - firedBefore).toBe(1);
    expect(new TextDecoder().decode(await sandbox.readFile('retried.txt'))).toBe('ok');
    await sandbox.kill();
  });

  localOnly('gives up with the rate-limit error when the limit persists', async () => {
    const impatient = new AgentSphereProvider({
      apiKey,
      domain,
      retry: { retries: 1, minTimeout: 10, maxTimeout: 20 },
    });
    fixture.host.faults.add({ target: 'control-plane', status: 429, times: 5, method: 'GET' });

    await expect(impatient.list({})).rejects.toBeInstanceOf(SandboxRateLimitedError);
    fixture.host.faults.clear();
  });
});
