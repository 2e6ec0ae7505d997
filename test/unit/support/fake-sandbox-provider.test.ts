/**
 * The fake sandbox provider behaves as the port says, and answers the product's own scripts in
 * the formats the production parsers read: a step tested against it meets what it meets in a
 * real sandbox.
 */
import { describe, expect, it } from 'vitest';
import { APP_STDERR_LOG, APP_STDOUT_LOG } from '../../../functions/shared/deployments/app-layout.ts';
import { readDiagnostics } from '../../../functions/shared/deployments/app-output.ts';
import { appPorts, listeningSockets } from '../../../functions/shared/deployments/listening-ports.ts';
import { collectLogs } from '../../../functions/shared/deployments/logs/collect-logs.ts';
import { SandboxGoneError, SandboxNotFoundError, SandboxUnavailableError } from '../../../functions/shared/sandbox/errors.ts';
import { FakeClock } from '../../support/fakes/fake-clock.ts';
import { FakeSandboxProvider } from '../../support/fakes/fake-sandbox-provider.ts';

function provider() {
  const clock = new FakeClock();
  return { clock, sandboxes: new FakeSandboxProvider({ now: clock.now }) };
}

const metadata = { userId: 'u', projectId: 'p', deploymentId: 'd' };

describe('the fake sandbox provider', () => {
  it('lists only live sandboxes whose metadata contains the filter', async () => {
    const { sandboxes } = provider();
    const mine = await sandboxes.create({ metadata, lifetimeSeconds: 60 });
    await sandboxes.create({ metadata: { ...metadata, deploymentId: 'other' }, lifetimeSeconds: 60 });
    const killed = await sandboxes.create({ metadata, lifetimeSeconds: 60 });
    await sandboxes.kill(killed.sandboxId);

    const listed = await sandboxes.list({ deploymentId: 'd' });

    expect(listed.map((sandbox) => sandbox.sandboxId)).toEqual([mine.sandboxId]);
  });

  it('writes streamed files whole, and refuses a source shorter than its size, writing nothing', async () => {
    const { sandboxes } = provider();
    const handle = await sandboxes.create({ metadata, lifetimeSeconds: 60 });
    const source = (text: string) => ({ size: text.length, open: async function* () { yield Buffer.from(text.slice(0, 2)); yield Buffer.from(text.slice(2)); } });

    await handle.writeFileStreams([{ path: 'app/a.txt', ...source('hello') }]);
    const short = handle.writeFileStreams([{ path: 'app/b.txt', ...source('hi'), size: 5 }]);

    expect(sandboxes.sandbox(handle.sandboxId).readText('app/a.txt')).toBe('hello');
    await expect(short).rejects.toMatchObject({ name: 'SourceSizeError', message: 'app/b.txt: its source gave 2 of the 5 bytes expected' });
    expect(sandboxes.sandbox(handle.sandboxId).readText('app/b.txt')).toBeUndefined();
  });

  it('ends a sandbox at its expiry on the clock', async () => {
    const { sandboxes, clock } = provider();
    const sandbox = await sandboxes.create({ metadata, lifetimeSeconds: 60 });

    clock.advanceSeconds(60);

    expect(await sandboxes.isAlive(sandbox.sandboxId)).toBe(false);
    await expect(sandboxes.connect(sandbox.sandboxId)).rejects.toBeInstanceOf(SandboxNotFoundError);
    await expect(sandbox.listProcesses()).rejects.toBeInstanceOf(SandboxGoneError);
  });

  it('fails the next N calls of a method with the given error, then works again', async () => {
    const { sandboxes } = provider();
    sandboxes.control.failNext('create', 2, () => new SandboxUnavailableError('503'));

    const first = sandboxes.create({ metadata, lifetimeSeconds: 60 });
    const second = sandboxes.create({ metadata, lifetimeSeconds: 60 });
    const third = await sandboxes.create({ metadata, lifetimeSeconds: 60 });

    await expect(first).rejects.toMatchObject({ name: 'SandboxUnavailableError' });
    await expect(second).rejects.toMatchObject({ name: 'SandboxUnavailableError' });
    expect(await sandboxes.isAlive(third.sandboxId)).toBe(true);
  });

  it("serves a port URL from the process listening on it, and answers 502 when nothing listens", async () => {
    const { sandboxes } = provider();
    const handle = await sandboxes.create({ metadata, lifetimeSeconds: 60 });
    const sandbox = sandboxes.sandbox(handle.sandboxId);
    sandbox.onStart('node server.js', (process) => process.listen(3000, () => new Response('hello')));
    await handle.startBackground('node server.js', { stdoutPath: APP_STDOUT_LOG, stderrPath: APP_STDERR_LOG });

    const served = await sandboxes.fetch(`${handle.portUrl(3000)}/`);
    const closed = await sandboxes.fetch(`${handle.portUrl(4000)}/`);

    expect([served.status, await served.text()]).toEqual([200, 'hello']);
    expect(closed.status).toBe(502);
  });

  it('stops serving a port once its process is killed', async () => {
    const { sandboxes } = provider();
    const handle = await sandboxes.create({ metadata, lifetimeSeconds: 60 });
    sandboxes.onStart('serve', (process) => process.listen(3000, () => new Response('up')));
    const { pid } = await handle.startBackground('serve', { stdoutPath: APP_STDOUT_LOG, stderrPath: APP_STDERR_LOG });

    const killed = await handle.killProcess(pid);

    expect(killed).toBe(true);
    expect((await sandboxes.fetch(`${handle.portUrl(3000)}/`)).status).toBe(502);
    expect(await handle.killProcess(pid)).toBe(false);
  });
});

describe("the fake sandbox's answers to the product's scripts", () => {
  it('gives the diagnostics of the app logs and the memory cgroup as readDiagnostics reads them', async () => {
    const { sandboxes } = provider();
    const handle = await sandboxes.create({ metadata, lifetimeSeconds: 60 });
    const sandbox = sandboxes.sandbox(handle.sandboxId);
    sandbox.appendFile(APP_STDOUT_LOG, '2030-01-01T00:00:01.000Z listening\n');
    sandbox.appendFile(APP_STDERR_LOG, '2030-01-01T00:00:02.000Z JavaScript heap out of memory\n');
    sandbox.memory.oomKills = 1;
    sandbox.memory.limitBytes = 512 * 1024 * 1024;

    const diagnostics = await readDiagnostics(handle);

    expect(diagnostics).toEqual({ output: 'listening\nJavaScript heap out of memory', memory: { oomKills: 1, limitBytes: 512 * 1024 * 1024 } });
  });

  it('reports the ports live processes listen on as listeningSockets parses them', async () => {
    const { sandboxes } = provider();
    const handle = await sandboxes.create({ metadata, lifetimeSeconds: 60 });
    sandboxes.onStart('vite', (process) => process.listen(5173, () => new Response(''), '127.0.0.1'));
    const { pid } = await handle.startBackground('vite', { stdoutPath: APP_STDOUT_LOG, stderrPath: APP_STDERR_LOG });

    const sockets = appPorts(await listeningSockets(handle));

    expect(sockets).toEqual([{ port: 5173, address: '127.0.0.1', pids: [pid] }]);
  });

  it('collects the log files of the layout as collectLogs parses them', async () => {
    const { sandboxes } = provider();
    const handle = await sandboxes.create({ metadata, lifetimeSeconds: 60 });
    sandboxes.sandbox(handle.sandboxId).appendFile(APP_STDOUT_LOG, '2030-01-01T00:00:01.000Z listening on 3000\n');

    const lines = await collectLogs(handle, { lines: 10 });

    expect(lines).toEqual([{ timestamp: '2030-01-01T00:00:01.000Z', source: 'app', line: 'listening on 3000', timestampSource: 'line' }]);
  });
});
