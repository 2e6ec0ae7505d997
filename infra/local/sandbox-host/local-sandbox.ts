/**
 * One local sandbox: its identity and lifetime as the control plane reports them, and the
 * processes the daemon started in it.
 */
import { DaemonStats } from './daemon-stats.ts';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { SandboxChild, SandboxRuntime } from './process-launcher.ts';
import type { SandboxLimits } from './sandbox-limits.ts';
import { SANDBOX_HOME } from './sandbox-paths.ts';
import { shellQuote } from '../../../functions/shared/shell-quote.ts';

/** Every sandbox process sees this, then the sandbox's env vars, then the command's. */
const BASE_ENV: Record<string, string> = {
  PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  HOME: SANDBOX_HOME,
  USER: 'user',
  LANG: 'C.UTF-8',
  TERM: 'dumb',
};
/** After a process exits, how long to wait for output still in its pipes (a daemon it left may hold them). */
const OUTPUT_DRAIN_MS = 200;

export interface ProcessConfig {
  cmd: string;
  args: string[];
  envs: Record<string, string>;
  cwd?: string;
}

export interface ProcessEnd {
  exitCode: number;
  exited: boolean;
  status: string;
  error?: string;
}

export type ProcessEvent =
  | { data: { stdout: string } }
  | { data: { stderr: string } }
  | { end: ProcessEnd };

export class SandboxProcess extends EventEmitter<{ event: [ProcessEvent] }> {
  readonly pid: number;
  readonly config: ProcessConfig;
  readonly tag?: string;
  readonly startedAt = new Date();
  /** The deadline the client asked for (Connect-Timeout-Ms), or null for none. */
  readonly deadlineMs: number | null;
  readonly #child: SandboxChild;
  #end: ProcessEnd | null = null;
  #deadlineTimer?: NodeJS.Timeout;

  constructor(child: SandboxChild, config: ProcessConfig, deadlineMs: number | null, tag?: string) {
    super();
    this.#child = child;
    this.pid = child.pid;
    this.config = config;
    this.deadlineMs = deadlineMs;
    this.tag = tag;
    child.stdout.on('data', (chunk: Buffer) => this.emit('event', { data: { stdout: chunk.toString('base64') } }));
    child.stderr.on('data', (chunk: Buffer) => this.emit('event', { data: { stderr: chunk.toString('base64') } }));
    child.once('exit', (code, signal) => this.#onExit(code, signal));
    if (deadlineMs && deadlineMs > 0) {
      this.#deadlineTimer = setTimeout(() => this.signal('SIGKILL'), deadlineMs);
      this.#deadlineTimer.unref();
    }
  }

  get running(): boolean {
    return this.#end === null;
  }

  get end(): ProcessEnd | null {
    return this.#end;
  }

  /** Signals the process's whole group (the command and the children it did not detach). */
  signal(signal: NodeJS.Signals): boolean {
    if (!this.running) return false;
    this.#child.signal(signal);
    return true;
  }

  writeStdin(data: Buffer): void {
    this.#child.writeStdin(data);
  }

  closeStdin(): void {
    this.#child.closeStdin();
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    clearTimeout(this.#deadlineTimer);
    const finish = () => {
      if (this.#end) return;
      this.#child.stdout.destroy();
      this.#child.stderr.destroy();
      this.#end = describeEnd(code, signal);
      this.emit('event', { end: this.#end });
    };
    const drained = Promise.all([streamClosed(this.#child.stdout), streamClosed(this.#child.stderr)]);
    const timer = setTimeout(finish, OUTPUT_DRAIN_MS);
    void drained.then(() => {
      clearTimeout(timer);
      finish();
    });
  }
}

function streamClosed(stream: Readable): Promise<void> {
  if (stream.closed) return Promise.resolve();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

const SIGNAL_WORDS: Partial<Record<NodeJS.Signals, string>> = {
  SIGKILL: 'killed',
  SIGTERM: 'terminated',
  SIGINT: 'interrupt',
  SIGHUP: 'hangup',
};

/** The daemon's wording (Go's os.ProcessState). */
function describeEnd(code: number | null, signal: NodeJS.Signals | null): ProcessEnd {
  if (signal) {
    const status = `signal: ${SIGNAL_WORDS[signal] ?? signal}`;
    return { exitCode: -1, exited: false, status, error: status };
  }
  const exitCode = code ?? -1;
  const status = `exit status ${exitCode}`;
  return exitCode === 0 ? { exitCode, exited: true, status } : { exitCode, exited: true, status, error: status };
}

export interface LocalSandboxInit {
  sandboxId: string;
  clientId: string;
  templateId: string;
  metadata: Record<string, string>;
  envVars: Record<string, string>;
  lifetimeMs: number;
  secure: boolean;
  rootDir: string;
  runtime: SandboxRuntime;
  limits: SandboxLimits;
}

export class LocalSandbox {
  readonly sandboxId: string;
  readonly clientId: string;
  readonly templateId: string;
  readonly metadata: Record<string, string>;
  readonly envVars: Record<string, string>;
  readonly accessToken: string | undefined;
  readonly startedAt = new Date();
  readonly rootDir: string;
  readonly runtime: SandboxRuntime;
  readonly limits: SandboxLimits;
  readonly processes = new Map<number, SandboxProcess>();
  /** Requests to its daemon and files written, counted for operators and tests. */
  readonly stats = new DaemonStats();
  endAt: Date;

  constructor(init: LocalSandboxInit) {
    this.sandboxId = init.sandboxId;
    this.clientId = init.clientId;
    this.templateId = init.templateId;
    this.metadata = init.metadata;
    this.envVars = init.envVars;
    this.accessToken = init.secure ? randomBytes(16).toString('hex') : undefined;
    this.rootDir = init.rootDir;
    this.runtime = init.runtime;
    this.limits = init.limits;
    this.endAt = new Date(this.startedAt.getTime() + init.lifetimeMs);
  }

  /** The id the SDK uses: `<sandboxID>-<clientID>`. */
  get fullId(): string {
    return `${this.sandboxId}-${this.clientId}`;
  }

  async startProcess(config: ProcessConfig, options: { deadlineMs: number | null; stdin: boolean; tag?: string }): Promise<SandboxProcess> {
    const child = await this.runtime.spawn(commandLine(config), {
      cwd: config.cwd || SANDBOX_HOME,
      env: { ...BASE_ENV, ...this.runtime.baseEnv, ...this.envVars, ...config.envs },
      stdin: options.stdin,
    });
    const started = new SandboxProcess(child, config, options.deadlineMs, options.tag);
    this.processes.set(started.pid, started);
    started.on('event', (event) => {
      if ('end' in event) this.processes.delete(started.pid);
    });
    return started;
  }
}

/** The daemon runs `/bin/bash -l -c <cmd>`; any other program is run through the same shell. */
function commandLine({ cmd, args }: ProcessConfig): string {
  if (cmd === '/bin/bash' && args[0] === '-l' && args[1] === '-c' && args.length === 3) return args[2]!;
  return [cmd, ...args].map(shellQuote).join(' ');
}
