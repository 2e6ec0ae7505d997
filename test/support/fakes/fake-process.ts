/**
 * A background process in a fake sandbox: what it was started with, the ports it listens on (an
 * HTTP handler each, reached through the provider's fetch), and its output, which goes to the
 * files it was given, as the real daemon appends it.
 */
import type { FakeSandbox } from './fake-sandbox.ts';

export type AppHandler = (request: Request) => Response | Promise<Response>;

export interface Listener {
  address: string;
  handler: AppHandler;
}

export interface FakeProcessInit {
  pid: number;
  command: string;
  cwd?: string;
  env: Record<string, string>;
  stdoutPath?: string;
  stderrPath?: string;
}

export class FakeProcess {
  readonly pid: number;
  readonly command: string;
  readonly cwd?: string;
  readonly env: Record<string, string>;
  readonly stdoutPath?: string;
  readonly stderrPath?: string;
  readonly listening = new Map<number, Listener>();
  readonly #sandbox: FakeSandbox;

  constructor(sandbox: FakeSandbox, init: FakeProcessInit) {
    this.#sandbox = sandbox;
    this.pid = init.pid;
    this.command = init.command;
    if (init.cwd !== undefined) this.cwd = init.cwd;
    this.env = init.env;
    if (init.stdoutPath !== undefined) this.stdoutPath = init.stdoutPath;
    if (init.stderrPath !== undefined) this.stderrPath = init.stderrPath;
  }

  get running(): boolean {
    return this.#sandbox.processes.get(this.pid) === this;
  }

  /** Serves HTTP on `port` (on all interfaces unless told otherwise) until the process ends. */
  listen(port: number, handler: AppHandler, address = '0.0.0.0'): this {
    this.listening.set(port, { address, handler });
    return this;
  }

  /** Lines on stdout, appended to its stdout file. */
  print(...lines: string[]): this {
    if (this.stdoutPath) this.#sandbox.appendFile(this.stdoutPath, lines.map((line) => `${line}\n`).join(''));
    return this;
  }

  printError(...lines: string[]): this {
    if (this.stderrPath) this.#sandbox.appendFile(this.stderrPath, lines.map((line) => `${line}\n`).join(''));
    return this;
  }

  /** Ends the process: its ports close. */
  exit(): void {
    if (this.running) this.#sandbox.processes.delete(this.pid);
    this.listening.clear();
  }
}
