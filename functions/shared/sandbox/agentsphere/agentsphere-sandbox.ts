/**
 * A connected AgentSphere sandbox, as the product's SandboxHandle. Calls that are safe to repeat
 * (files, process list/kill, lifetime, kill) are retried on transient errors; commands are not.
 *
 * Known SDK defect, not absorbed: command output is decoded chunk by chunk without
 * `{stream: true}`, so a UTF-8 character split across two chunks comes out as U+FFFD. The
 * onStdout/onStderr callbacks receive the same already-decoded strings, so there is no way around
 * it short of redirecting output to a file and reading its bytes.
 */
import { CommandExitError, type Sandbox } from 'agentsphere';
import type { ProcessInfo } from 'agentsphere';
import { SandboxGoneError, SandboxNotFoundError, SandboxTimeoutError } from '../errors.ts';
import type {
  BackgroundOptions,
  CommandResult,
  FileToWrite,
  ProcessSummary,
  RunOptions,
  SandboxHandle,
  StreamToWrite,
} from '../sandbox-provider.ts';
import { backgroundCommandLine, logDirectories } from './background-command.ts';
import { killSandbox, setSandboxLifetime, type ControlPlaneContext } from './control-plane.ts';
import { withDeadline } from './deadline.ts';
import { withErrorMapping } from './map-error.ts';
import { withRetry } from './retry.ts';
import { fitTimeout } from './time-budget.ts';
import { daemonEndpoint, postFileStreams } from './stream-upload.ts';

export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
export const DEFAULT_UPLOAD_TIMEOUT_MS = 120_000;

export interface AgentSphereSandboxOptions extends ControlPlaneContext {
  /** Deadline of `run` when the caller gives none. */
  commandTimeoutMs: number;
  /** Deadline of one `writeFiles` upload (the SDK sets none of its own). */
  uploadTimeoutMs: number;
  /** Scheme of app URLs (`https` in the cloud). */
  appUrlScheme: 'https' | 'http';
}

export class AgentSphereSandbox implements SandboxHandle {
  readonly sandboxId: string;
  readonly #sandbox: Sandbox;
  readonly #options: AgentSphereSandboxOptions;

  constructor(sandbox: Sandbox, options: AgentSphereSandboxOptions) {
    this.sandboxId = sandbox.sandboxId;
    this.#sandbox = sandbox;
    this.#options = options;
  }

  /** One multipart request for the whole batch; an overwrite, so repeating it is safe. */
  async writeFiles(files: readonly FileToWrite[]): Promise<void> {
    if (files.length === 0) return;
    const operation = `write ${files.length} file(s) to sandbox ${this.sandboxId}`;
    const entries = files.map((file) => ({ path: file.path, data: toUploadData(file.content) }));
    await withRetry(
      operation,
      () => {
        const timeoutMs = this.#fit(operation, this.#options.uploadTimeoutMs);
        return withDeadline(
          this.#sandbox.files.write(entries, { requestTimeoutMs: timeoutMs }),
          timeoutMs,
          () => new SandboxTimeoutError(`${operation} failed: no answer within ${timeoutMs} ms`),
        );
      },
      this.#options.retry,
    );
  }

  /** Streamed, not through the SDK (which buffers every file); each retry re-opens the sources. */
  async writeFileStreams(files: readonly StreamToWrite[]): Promise<void> {
    if (files.length === 0) return;
    const operation = `write ${files.length} file(s) to sandbox ${this.sandboxId}`;
    const bytes = files.reduce((sum, file) => sum + file.size, 0);
    // At least 2 MB/s before the deadline passes: a 100 MiB file is not cut off at the default.
    const timeoutMs = Math.max(this.#options.uploadTimeoutMs, Math.ceil(bytes / 2_000));
    const endpoint = daemonEndpoint(this.#sandbox);
    await withRetry(operation, () => postFileStreams(endpoint, files, timeoutMs), this.#options.retry);
  }

  async readFile(path: string): Promise<Uint8Array> {
    const content = await withRetry(
      `read ${path} in sandbox ${this.sandboxId}`,
      () => this.#sandbox.files.read(path, { format: 'bytes', requestTimeoutMs: this.#fit(`read ${path}`) }),
      this.#options.retry,
    );
    return toBytes(content);
  }

  async makeDir(path: string): Promise<void> {
    // false means the directory already exists, which is fine.
    await withRetry(
      `create directory ${path} in sandbox ${this.sandboxId}`,
      () => this.#sandbox.files.makeDir(path, { requestTimeoutMs: this.#fit(`create directory ${path}`) }),
      this.#options.retry,
    );
  }

  /** Not retried: a command may have had effects before the failure. */
  async run(command: string, options: RunOptions = {}): Promise<CommandResult> {
    return withErrorMapping(`run a command in sandbox ${this.sandboxId}`, async () => {
      try {
        // The command's deadline (the daemon ends it then) and its request fit the invocation.
        const timeoutMs = this.#fit('run a command', options.timeoutMs ?? this.#options.commandTimeoutMs);
        const result = await this.#sandbox.commands.run(command, {
          cwd: options.cwd,
          envs: options.env,
          timeoutMs,
          requestTimeoutMs: timeoutMs,
        });
        return { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr };
      } catch (err) {
        // The SDK throws on a non-zero exit; for the port that is a result.
        if (err instanceof CommandExitError) return { exitCode: err.exitCode, stdout: err.stdout, stderr: err.stderr };
        throw err;
      }
    });
  }

  /**
   * Starts the process with no deadline (`timeoutMs: 0`; the SDK's default of 60 s would have the
   * daemon kill a server after a minute), output appended to the log files, then drops the event
   * stream: the daemon keeps the process running without a client. Not retried: it would start
   * a second process.
   */
  async startBackground(command: string, options: BackgroundOptions): Promise<{ pid: number }> {
    await Promise.all(logDirectories(options).map((directory) => this.makeDir(directory)));
    const handle = await withErrorMapping(`start a background process in sandbox ${this.sandboxId}`, () =>
      this.#sandbox.commands.run(backgroundCommandLine(command, options), {
        background: true,
        timeoutMs: 0,
        requestTimeoutMs: this.#fit('start a background process'),
        cwd: options.cwd,
        envs: options.env,
      }),
    );
    await handle.disconnect();
    return { pid: handle.pid };
  }

  async listProcesses(): Promise<ProcessSummary[]> {
    const processes = await withRetry(
      `list processes in sandbox ${this.sandboxId}`,
      () => this.#sandbox.commands.list({ requestTimeoutMs: this.#fit('list processes') }),
      this.#options.retry,
    );
    return processes.map(toProcessSummary);
  }

  /** SIGKILL; false when no such process runs. */
  async killProcess(pid: number): Promise<boolean> {
    return withRetry(
      `kill process ${pid} in sandbox ${this.sandboxId}`,
      () => this.#sandbox.commands.kill(pid, { requestTimeoutMs: this.#fit(`kill process ${pid}`) }),
      this.#options.retry,
    );
  }

  /** A call's timeout: its own (default the request timeout), or less when the invocation ends sooner. */
  #fit(operation: string, wantedMs = this.#options.connection.requestTimeoutMs): number {
    return fitTimeout(`${operation} in sandbox ${this.sandboxId}`, wantedMs, this.#options.connection.deadline);
  }

  portUrl(port: number): string {
    return `${this.#options.appUrlScheme}://${this.#sandbox.getHost(port)}`;
  }

  /** Asks the sandbox's daemon; it answers 502 through the proxy once the sandbox has ended. */
  async isAlive(): Promise<boolean> {
    try {
      return await withRetry(
        `check whether sandbox ${this.sandboxId} is running`,
        () => this.#sandbox.isRunning({ requestTimeoutMs: this.#fit('check whether it is running') }),
        this.#options.retry,
      );
    } catch (err) {
      if (err instanceof SandboxGoneError || err instanceof SandboxNotFoundError) return false;
      throw err;
    }
  }

  async extendLifetime(lifetimeSeconds: number): Promise<void> {
    await setSandboxLifetime(this.sandboxId, lifetimeSeconds, this.#options);
  }

  async kill(): Promise<void> {
    await killSandbox(this.sandboxId, this.#options);
  }
}

/**
 * Strings go as they are (the SDK encodes them as UTF-8); bytes go as an ArrayBuffer holding
 * exactly the view's bytes, not the whole buffer a view may share with others.
 */
function toUploadData(content: Uint8Array | string): string | ArrayBuffer {
  return typeof content === 'string' ? content : new Uint8Array(content).buffer;
}

/** The SDK returns "" instead of bytes for some empty files; normalise to a Uint8Array. */
function toBytes(content: unknown): Uint8Array {
  if (content instanceof Uint8Array) return content;
  if (typeof content === 'string') return new TextEncoder().encode(content);
  return new Uint8Array();
}

/** Every command runs as `/bin/bash -l -c <command>`: show the command rather than the shell. */
function toProcessSummary(process: ProcessInfo): ProcessSummary {
  const { args } = process;
  const command = args.length >= 2 && args.at(-2) === '-c' ? args.at(-1)! : [process.cmd, ...args].join(' ');
  return process.cwd ? { pid: process.pid, command, cwd: process.cwd } : { pid: process.pid, command };
}
