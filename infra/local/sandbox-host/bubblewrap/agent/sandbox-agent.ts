/**
 * The trusted agent inside a bubblewrap sandbox (pid 2 of its pid namespace, the sandbox's uid),
 * the local counterpart of the cloud's in-sandbox daemon. Over the IPC channel to the host it:
 * - runs commands (`/bin/bash -l -c`) in process groups of their own and streams their output;
 * - connects to app ports on the sandbox's loopback and hands the connected socket to the host,
 *   which then talks to the app directly (the sandbox has its own network namespace);
 * - hands the host every connection to 127.0.0.1:3128, the egress proxy, for its allow-list;
 * - reads and writes files with the sandbox's own identity, so nothing the tenant does with
 *   symlinks can make the host touch its own files.
 * Only `node:` modules: this directory is all the agent sees of the checkout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { EGRESS_PROXY_PORT, MAX_CHUNK_BYTES, type AgentError, type AgentMessage, type Entry, type HostMessage } from './agent-protocol.ts';

/** Output waiting in the IPC channel above which process output is paused. */
const MAX_UNSENT_BYTES = 1024 * 1024;
/** After a process exits, how long output still in its pipes is forwarded (a daemon it left may hold them). */
const OUTPUT_DRAIN_MS = 200;
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * Every command starts here: it raises its OOM score above the agent's (any process may raise its
 * own), so the memory cgroup kills a command before the agent; it closes descriptors above stderr;
 * then it runs the daemon's shell.
 */
const COMMAND_PREFIX = 'echo 500 > /proc/self/oom_score_adj 2>/dev/null; exec 3>&- 4>&- 5>&- 6>&-; exec /bin/bash -l -c "$1"';

let unsentBytes = 0;
const pausedStreams = new Set<Readable>();
const processes = new Map<number, ChildProcess>();
const writes = new Map<number, { handle: FileHandle; path: string; pending: Promise<void>; error?: Error }>();

function send(message: AgentMessage, handle?: Socket): void {
  if (!process.connected) return;
  const size = 'data' in message ? message.data.length : 64;
  unsentBytes += size;
  process.send!(message, handle, {}, () => {
    unsentBytes -= size;
    if (unsentBytes < MAX_UNSENT_BYTES / 2) resumeStreams();
  });
}

function resumeStreams(): void {
  for (const stream of pausedStreams) stream.resume();
  pausedStreams.clear();
}

function forward(stream: Readable, onChunk: (chunk: Buffer) => void): void {
  stream.on('data', (chunk: Buffer) => {
    for (let offset = 0; offset < chunk.length; offset += MAX_CHUNK_BYTES) onChunk(chunk.subarray(offset, offset + MAX_CHUNK_BYTES));
    if (unsentBytes > MAX_UNSENT_BYTES) {
      stream.pause();
      pausedStreams.add(stream);
    }
  });
}

function reply(id: number, value?: unknown, handle?: Socket): void {
  send({ t: 'reply', id, ok: true, ...(value === undefined ? {} : { value }) }, handle);
}

function fail(id: number, error: unknown): void {
  send({ t: 'reply', id, ok: false, error: asAgentError(error) });
}

function asAgentError(error: unknown): AgentError {
  const code = (error as NodeJS.ErrnoException)?.code;
  return { code: typeof code === 'string' ? code : 'EINVAL', message: error instanceof Error ? error.message : String(error) };
}

async function startProcess({ id, command, cwd, env, stdin }: Extract<HostMessage, { t: 'spawn' }>): Promise<void> {
  const cwdInfo = await stat(cwd).catch(() => undefined);
  if (!cwdInfo?.isDirectory()) return fail(id, Object.assign(new Error(`working directory '${cwd}' does not exist`), { code: 'ENOENT' }));
  const child = spawn('/bin/sh', ['-c', COMMAND_PREFIX, 'sh', command], {
    cwd,
    env,
    detached: true,
    stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  child.once('error', (error) => {
    if (!child.pid) fail(id, error);
  });
  if (!child.pid) return;
  processes.set(id, child);
  child.stdin?.on('error', () => {});
  forward(child.stdout!, (data) => send({ t: 'out', id, fd: 1, data: data.toString('base64') }));
  forward(child.stderr!, (data) => send({ t: 'out', id, fd: 2, data: data.toString('base64') }));
  child.once('exit', () => {
    const drained = setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
    }, OUTPUT_DRAIN_MS);
    child.once('close', () => clearTimeout(drained));
  });
  child.once('close', (code, signal) => {
    processes.delete(id);
    send({ t: 'exit', id, code, signal });
  });
  reply(id, { pid: child.pid });
}

function signalProcess({ id, signal }: Extract<HostMessage, { t: 'signal' }>): void {
  const child = processes.get(id);
  if (!child?.pid) return;
  try {
    process.kill(-child.pid, signal as NodeJS.Signals);
  } catch {
    try {
      process.kill(child.pid, signal as NodeJS.Signals);
    } catch {
      // already gone
    }
  }
}

/** Apps may listen on 0.0.0.0, 127.0.0.1 or ::1 (`localhost`): IPv4 first, then IPv6. */
function connectPort({ id, port }: Extract<HostMessage, { t: 'connect' }>): void {
  const attempt = (hosts: string[]) => {
    const socket = connect({ host: hosts[0]!, port });
    // Not one byte may be read here: the host reads from this socket once it holds it.
    socket.pause();
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error('connect timed out'), { code: 'ETIMEDOUT' })), CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      reply(id, undefined, socket);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (hosts.length > 1 && (error.code === 'ECONNREFUSED' || error.code === 'EADDRNOTAVAIL')) return attempt(hosts.slice(1));
      fail(id, error);
    });
  };
  attempt(['127.0.0.1', '::1']);
}

function entryOf(path: string, info: Stats): Entry {
  return { name: basename(path), type: info.isDirectory() ? 'directory' : 'file', path };
}

async function fileOperation(message: Extract<HostMessage, { t: 'fs' }>): Promise<unknown> {
  const { op, path } = message;
  switch (op) {
    case 'stat':
      return entryOf(path, await stat(path));
    case 'makeDir': {
      if (await exists(path)) throw Object.assign(new Error(`directory '${path}' already exists`), { code: 'EEXIST' });
      await mkdir(path, { recursive: true });
      return entryOf(path, await stat(path));
    }
    case 'move': {
      const destination = message.destination!;
      await lstat(path);
      await mkdir(dirname(destination), { recursive: true });
      await rename(path, destination);
      return entryOf(destination, await stat(destination));
    }
    case 'listDir': {
      const info = await stat(path);
      if (!info.isDirectory()) throw Object.assign(new Error(`path '${path}' is not a directory`), { code: 'ENOTDIR' });
      return listEntries(path, Math.max(1, message.depth ?? 1));
    }
    case 'remove':
      await lstat(path);
      await rm(path, { recursive: true, force: true });
      return undefined;
    case 'read':
      throw new Error('read is streamed');
  }
}

async function listEntries(dir: string, depth: number): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const dirent of await readdir(dir, { withFileTypes: true })) {
    const child = join(dir, dirent.name);
    entries.push({ name: dirent.name, type: dirent.isDirectory() ? 'directory' : 'file', path: child });
    if (dirent.isDirectory() && depth > 1) entries.push(...(await listEntries(child, depth - 1)));
  }
  return entries;
}

async function readFileStreamed(id: number, path: string): Promise<void> {
  const info = await stat(path);
  if (info.isDirectory()) throw Object.assign(new Error(`path '${path}' is a directory`), { code: 'EISDIR' });
  const stream = createReadStream(path, { highWaterMark: MAX_CHUNK_BYTES });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  reply(id, { size: info.size });
  forward(stream, (data) => send({ t: 'chunk', id, data: data.toString('base64') }));
  stream.once('end', () => send({ t: 'end', id }));
  stream.once('error', () => send({ t: 'end', id }));
}

async function writeOpen(id: number, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(path, 'w', 0o644);
  writes.set(id, { handle, path, pending: Promise.resolve() });
}

/** Answered once written, so the host never sends faster than the disk takes it. */
async function writeChunk(id: number, data: string): Promise<void> {
  const write = writes.get(id);
  if (!write) throw new Error(`no file is open for request ${id}`);
  write.pending = write.pending.then(async () => {
    if (write.error) return;
    await write.handle.write(Buffer.from(data, 'base64')).catch((error: Error) => {
      write.error = error;
    });
  });
  await write.pending;
}

async function writeEnd(id: number): Promise<unknown> {
  const write = writes.get(id);
  if (!write) throw new Error(`no file is open for request ${id}`);
  writes.delete(id);
  await write.pending;
  await write.handle.close();
  if (write.error) throw write.error;
  return entryOf(write.path, await stat(write.path));
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

function settle(id: number, work: Promise<unknown>): void {
  work.then((value) => reply(id, value), (error: unknown) => fail(id, error));
}

function onMessage(message: HostMessage, handle?: unknown): void {
  (handle as Socket | undefined)?.destroy?.();
  switch (message.t) {
    case 'spawn':
      return void startProcess(message).catch((error: unknown) => fail(message.id, error));
    case 'stdin':
      return void processes.get(message.id)?.stdin?.write(Buffer.from(message.data, 'base64'));
    case 'closeStdin':
      return void processes.get(message.id)?.stdin?.end();
    case 'signal':
      return signalProcess(message);
    case 'connect':
      return connectPort(message);
    case 'fs':
      if (message.op === 'read') return void readFileStreamed(message.id, message.path).catch((error: unknown) => fail(message.id, error));
      return settle(message.id, fileOperation(message));
    case 'writeOpen':
      return settle(message.id, writeOpen(message.id, message.path));
    case 'writeChunk':
      return settle(message.id, writeChunk(message.id, message.data));
    case 'writeEnd':
      return settle(message.id, writeEnd(message.id));
  }
}

function startEgressListener(): Promise<void> {
  // Paused sockets: the host's proxy reads the CONNECT request itself.
  const server = createServer({ pauseOnConnect: true }, (socket) => send({ t: 'egress' }, socket));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(EGRESS_PROXY_PORT, '127.0.0.1', () => resolve());
  });
}

process.on('message', onMessage);
// The host is gone: so is the sandbox (pid 1 ends the namespace when the agent exits).
process.on('disconnect', () => process.exit(0));
process.on('uncaughtException', (error) => console.error('[sandbox-agent]', error));
await startEgressListener();
send({ t: 'ready' });
