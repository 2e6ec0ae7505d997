/**
 * The sandbox daemon's Connect-RPC services (`filesystem.Filesystem`, `process.Process`), JSON
 * codec, as the SDK calls them.
 */
import type { LocalSandbox, SandboxProcess } from './local-sandbox.ts';
import { ConnectError, type ConnectCode, type ServerStream } from './connect-rpc.ts';
import { SandboxFileError, type SandboxEntry, type SandboxFileErrorCode, type SandboxFiles } from './sandbox-files.ts';
import { sandboxPath, SandboxPathError } from './sandbox-paths.ts';
import { SandboxEndedError } from './process-launcher.ts';

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
  'filesystem.Filesystem/Stat': async ({ sandbox }, { path }) => ({ entry: wireEntry(await files(sandbox, (f) => f.stat(requiredPath(path)))) }),
  'filesystem.Filesystem/MakeDir': async ({ sandbox }, { path }) => ({ entry: wireEntry(await files(sandbox, (f) => f.makeDir(requiredPath(path)))) }),
  'filesystem.Filesystem/Move': async ({ sandbox }, { source, destination }) => ({
    entry: wireEntry(await files(sandbox, (f) => f.move(requiredPath(source), requiredPath(destination)))),
  }),
  'filesystem.Filesystem/ListDir': async ({ sandbox }, { path, depth }) => ({
    entries: (await files(sandbox, (f) => f.listDir(requiredPath(path), Math.max(1, Number(depth) || 1)))).map(wireEntry),
  }),
  'filesystem.Filesystem/Remove': async ({ sandbox }, { path }) => {
    await files(sandbox, (f) => f.remove(requiredPath(path)));
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
      started = await context.sandbox.startProcess(
        { cmd: config.cmd, args: config.args ?? [], envs: config.envs ?? {}, ...(config.cwd ? { cwd: sandboxPath(config.cwd) } : {}) },
        { deadlineMs: context.timeoutMs, stdin: stdin === true, tag },
      );
    } catch (error) {
      if (error instanceof SandboxEndedError) throw error;
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

/** The Filesystem service's errors, as the SDK maps them (not_found makes exists() false, ...). */
const CONNECT_CODE_BY_FILE_ERROR: Record<SandboxFileErrorCode, ConnectCode> = {
  not_found: 'not_found',
  already_exists: 'already_exists',
  not_a_directory: 'invalid_argument',
  is_a_directory: 'invalid_argument',
  permission_denied: 'permission_denied',
  no_space: 'resource_exhausted',
  invalid: 'invalid_argument',
};

async function files<T>(sandbox: LocalSandbox, operation: (files: SandboxFiles) => Promise<T>): Promise<T> {
  try {
    return await operation(sandbox.runtime.files);
  } catch (error) {
    if (error instanceof SandboxFileError) throw new ConnectError(CONNECT_CODE_BY_FILE_ERROR[error.code], error.message);
    throw error;
  }
}

function requiredPath(path: unknown): string {
  if (typeof path !== 'string' || path === '') throw new ConnectError('invalid_argument', 'path is required');
  try {
    return sandboxPath(path);
  } catch (error) {
    if (error instanceof SandboxPathError) throw new ConnectError('invalid_argument', error.message);
    throw error;
  }
}

function wireEntry(entry: SandboxEntry) {
  return { name: entry.name, type: entry.type === 'directory' ? 'FILE_TYPE_DIRECTORY' : 'FILE_TYPE_FILE', path: entry.path };
}
