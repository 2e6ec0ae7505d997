/**
 * The sandbox daemon's Connect-RPC services (`filesystem.Filesystem`, `process.Process`), JSON
 * codec, as the SDK calls them.
 */
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { LocalSandbox, SandboxProcess } from './local-sandbox.ts';
import { ConnectError, type ServerStream } from './connect-rpc.ts';
import { hostPath, sandboxPath, SandboxPathError, toSandboxPath } from './sandbox-paths.ts';

export interface RpcContext {
  sandbox: LocalSandbox;
  /** Connect-Timeout-Ms of the request: the daemon uses it as the process deadline. */
  timeoutMs: number | null;
  /** Seconds between keepalive events on a stream. */
  keepaliveSeconds: number | null;
}

type UnaryMethod = (context: RpcContext, message: Record<string, any>) => Promise<unknown>;
type StreamMethod = (context: RpcContext, message: Record<string, any>, stream: ServerStream) => Promise<void>;

export const unaryMethods: Record<string, UnaryMethod> = {
  'filesystem.Filesystem/Stat': async ({ sandbox }, { path }) => ({ entry: await entryInfo(sandbox, await mapPath(sandbox, path)) }),
  'filesystem.Filesystem/MakeDir': async ({ sandbox }, { path }) => {
    const target = await mapPath(sandbox, path);
    if (await exists(target)) throw new ConnectError('already_exists', `directory '${sandboxPath(path)}' already exists`);
    await mkdir(target, { recursive: true });
    return { entry: await entryInfo(sandbox, target) };
  },
  'filesystem.Filesystem/Move': async ({ sandbox }, { source, destination }) => {
    const from = await mapPath(sandbox, source);
    const to = await mapPath(sandbox, destination);
    if (!(await exists(from))) throw new ConnectError('not_found', `path '${sandboxPath(source)}' does not exist`);
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
    return { entry: await entryInfo(sandbox, to) };
  },
  'filesystem.Filesystem/ListDir': async ({ sandbox }, { path, depth }) => {
    const target = await mapPath(sandbox, path);
    const info = await stat(target).catch(() => undefined);
    if (!info) throw new ConnectError('not_found', `path '${sandboxPath(path)}' does not exist`);
    if (!info.isDirectory()) throw new ConnectError('invalid_argument', `path '${sandboxPath(path)}' is not a directory`);
    return { entries: await listEntries(sandbox, target, Math.max(1, Number(depth) || 1)) };
  },
  'filesystem.Filesystem/Remove': async ({ sandbox }, { path }) => {
    const target = await mapPath(sandbox, path);
    if (!(await exists(target))) throw new ConnectError('not_found', `path '${sandboxPath(path)}' does not exist`);
    await rm(target, { recursive: true, force: true });
    return {};
  },
  'process.Process/List': async ({ sandbox }) => ({
    processes: [...sandbox.processes.values()].map((process) => ({
      pid: process.pid,
      ...(process.tag ? { tag: process.tag } : {}),
      config: process.config,
    })),
  }),
  'process.Process/SendSignal': async ({ sandbox }, { process, signal }) => {
    const target = findProcess(sandbox, process);
    const name = signal === 'SIGNAL_SIGTERM' ? 'SIGTERM' : 'SIGKILL';
    if (!target.signal(name)) throw new ConnectError('not_found', `process ${target.pid} is not running`);
    return {};
  },
  'process.Process/SendInput': async ({ sandbox }, { process, input }) => {
    const target = findProcess(sandbox, process);
    if (input?.stdin) target.writeStdin(Buffer.from(input.stdin, 'base64'));
    return {};
  },
  'process.Process/CloseStdin': async ({ sandbox }, { process }) => {
    findProcess(sandbox, process).closeStdin();
    return {};
  },
};

export const streamMethods: Record<string, StreamMethod> = {
  'process.Process/Start': async (context, { process: config, stdin, tag }, stream) => {
    if (!config?.cmd) throw new ConnectError('invalid_argument', 'process.cmd is required');
    let started: SandboxProcess;
    try {
      started = context.sandbox.startProcess(
        { cmd: config.cmd, args: config.args ?? [], envs: config.envs ?? {}, ...(config.cwd ? { cwd: sandboxPath(config.cwd) } : {}) },
        { deadlineMs: context.timeoutMs, stdin: stdin === true, tag },
      );
    } catch (error) {
      throw new ConnectError('internal', `failed to start process: ${(error as Error).message}`);
    }
    await followProcess(started, context, stream);
  },
  'process.Process/Connect': async (context, { process: selector }, stream) => {
    await followProcess(findProcess(context.sandbox, selector), context, stream);
  },
};

/** Streams a process's events until it ends or the client goes away; the process lives on. */
function followProcess(target: SandboxProcess, context: RpcContext, stream: ServerStream): Promise<void> {
  return new Promise((resolve) => {
    stream.send({ event: { start: { pid: target.pid } } });
    const keepalive = context.keepaliveSeconds
      ? setInterval(() => stream.send({ event: { keepalive: {} } }), context.keepaliveSeconds * 1000)
      : undefined;
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(keepalive);
      target.off('event', onEvent);
      stream.end();
      resolve();
    };
    const onEvent = (event: Parameters<typeof stream.send>[0]) => {
      stream.send({ event });
      if (event && typeof event === 'object' && 'end' in event) finish();
      else if (!stream.open) finish();
    };
    if (target.end) return onEvent({ end: target.end });
    target.on('event', onEvent);
    stream.onClose(finish);
  });
}

function findProcess(sandbox: LocalSandbox, selector: { pid?: number; tag?: string } | undefined): SandboxProcess {
  const found = selector?.pid !== undefined
    ? sandbox.processes.get(Number(selector.pid))
    : [...sandbox.processes.values()].find((candidate) => candidate.tag && candidate.tag === selector?.tag);
  if (!found) throw new ConnectError('not_found', `process ${selector?.pid ?? selector?.tag} not found`);
  return found;
}

async function mapPath(sandbox: LocalSandbox, path: unknown): Promise<string> {
  if (typeof path !== 'string' || path === '') throw new ConnectError('invalid_argument', 'path is required');
  try {
    return await hostPath(sandbox.rootDir, path);
  } catch (error) {
    if (error instanceof SandboxPathError) throw new ConnectError('permission_denied', error.message);
    throw error;
  }
}

async function entryInfo(sandbox: LocalSandbox, target: string) {
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new ConnectError('not_found', `path '${toSandboxPath(sandbox.rootDir, target)}' does not exist`);
  return {
    name: basename(target),
    type: info.isDirectory() ? 'FILE_TYPE_DIRECTORY' : 'FILE_TYPE_FILE',
    path: toSandboxPath(sandbox.rootDir, target),
  };
}

async function listEntries(sandbox: LocalSandbox, dir: string, depth: number): Promise<unknown[]> {
  const entries: unknown[] = [];
  for (const dirent of await readdir(dir, { withFileTypes: true })) {
    const child = join(dir, dirent.name);
    entries.push({
      name: dirent.name,
      type: dirent.isDirectory() ? 'FILE_TYPE_DIRECTORY' : 'FILE_TYPE_FILE',
      path: toSandboxPath(sandbox.rootDir, child),
    });
    if (dirent.isDirectory() && depth > 1) entries.push(...(await listEntries(sandbox, child, depth - 1)));
  }
  return entries;
}

async function exists(target: string): Promise<boolean> {
  return stat(target).then(() => true, () => false);
}
