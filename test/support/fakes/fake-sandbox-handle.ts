/**
 * A connection to a fake sandbox, as the port describes it. Once the sandbox has ended every
 * call fails with SandboxGoneError, as the real daemon's answers do.
 */
import { SandboxGoneError, SandboxNotFoundError } from '../../../functions/shared/sandbox/errors.ts';
import type {
  BackgroundOptions,
  CommandResult,
  FileToWrite,
  ProcessSummary,
  RunOptions,
  SandboxHandle,
  StreamToWrite,
} from '../../../functions/shared/sandbox/sandbox-provider.ts';
import type { CallControl } from './call-control.ts';
import { respond } from './command-rules.ts';
import type { FakeSandbox } from './fake-sandbox.ts';
import { resolvePath } from './fake-sandbox.ts';
import { builtinAnswer } from './sandbox-builtins.ts';
import type { ProgramBehaviour, RunResponder } from './command-rules.ts';
import type { CommandRules } from './command-rules.ts';

export type HandleMethod =
  | 'writeFiles'
  | 'writeFileStreams'
  | 'readFile'
  | 'makeDir'
  | 'run'
  | 'startBackground'
  | 'listProcesses'
  | 'killProcess'
  | 'isAlive'
  | 'extendLifetime'
  | 'kill';

/** What a handle needs of its provider. */
export interface HandleContext {
  control: CallControl<HandleMethod>;
  /** Provider-wide rules, consulted after the sandbox's own. */
  commands: CommandRules<RunResponder>;
  programs: CommandRules<ProgramBehaviour>;
  now: () => Date;
  portUrl(sandboxId: string, port: number): string;
  kill(sandboxId: string): Promise<void>;
}

export class FakeSandboxHandle implements SandboxHandle {
  readonly sandboxId: string;
  readonly #sandbox: FakeSandbox;
  readonly #context: HandleContext;

  constructor(sandbox: FakeSandbox, context: HandleContext) {
    this.sandboxId = sandbox.sandboxId;
    this.#sandbox = sandbox;
    this.#context = context;
  }

  writeFiles(files: readonly FileToWrite[]): Promise<void> {
    return this.#live('writeFiles', [this.sandboxId, files], () => {
      for (const file of files) this.#sandbox.writeFile(file.path, file.content);
    });
  }

  /** Reads each stream to its end and writes the files at once; a source that is not its stated size writes nothing. */
  writeFileStreams(files: readonly StreamToWrite[]): Promise<void> {
    return this.#live('writeFileStreams', [this.sandboxId, files.map((file) => ({ path: file.path, size: file.size }))], async () => {
      const contents: Uint8Array[] = [];
      for (const file of files) {
        const chunks: Uint8Array[] = [];
        for await (const chunk of file.open()) chunks.push(chunk);
        const content = Buffer.concat(chunks);
        if (content.length !== file.size) throw Object.assign(new Error(`${file.path}: its source gave ${content.length} of the ${file.size} bytes expected`), { name: 'SourceSizeError' });
        contents.push(content);
      }
      files.forEach((file, index) => this.#sandbox.writeFile(file.path, contents[index]!));
    });
  }

  readFile(path: string): Promise<Uint8Array> {
    return this.#live('readFile', [this.sandboxId, path], () => {
      const file = this.#sandbox.files.get(resolvePath(path));
      if (!file) throw new SandboxNotFoundError(`${path} does not exist in sandbox ${this.sandboxId}`);
      return new Uint8Array(file.content);
    });
  }

  makeDir(path: string): Promise<void> {
    return this.#live('makeDir', [this.sandboxId, path], () => this.#sandbox.makeDir(path));
  }

  run(command: string, options?: RunOptions): Promise<CommandResult> {
    return this.#live('run', [this.sandboxId, command, options], async () => {
      const responder = this.#sandbox.commands.take(command) ?? this.#context.commands.take(command);
      if (responder) return respond(responder, command, options, this.#sandbox);
      return builtinAnswer(this.#sandbox, command) ?? { exitCode: 0, stdout: '', stderr: '' };
    });
  }

  startBackground(command: string, options: BackgroundOptions): Promise<{ pid: number }> {
    return this.#live('startBackground', [this.sandboxId, command, options], () => {
      const process = this.#sandbox.startProcess({
        command,
        ...(options.cwd !== undefined ? { cwd: options.cwd } : {}),
        env: { ...this.#sandbox.env, ...options.env },
        stdoutPath: options.stdoutPath,
        stderrPath: options.stderrPath,
      });
      const behaviour = this.#sandbox.programs.take(command) ?? this.#context.programs.take(command);
      behaviour?.(process, this.#sandbox);
      return { pid: process.pid };
    });
  }

  listProcesses(): Promise<ProcessSummary[]> {
    return this.#live('listProcesses', [this.sandboxId], () =>
      [...this.#sandbox.processes.values()].map((process) => ({ pid: process.pid, command: process.command, ...(process.cwd ? { cwd: process.cwd } : {}) })),
    );
  }

  killProcess(pid: number): Promise<boolean> {
    return this.#live('killProcess', [this.sandboxId, pid], () => {
      const process = this.#sandbox.processes.get(pid);
      if (!process) return false;
      process.exit();
      return true;
    });
  }

  portUrl(port: number): string {
    return this.#context.portUrl(this.sandboxId, port);
  }

  isAlive(): Promise<boolean> {
    return this.#context.control.call('isAlive', [this.sandboxId], () => this.#sandbox.alive);
  }

  extendLifetime(lifetimeSeconds: number): Promise<void> {
    return this.#live('extendLifetime', [this.sandboxId, lifetimeSeconds], () => {
      this.#sandbox.expiresAt = new Date(this.#context.now().getTime() + lifetimeSeconds * 1000);
    });
  }

  kill(): Promise<void> {
    return this.#context.control.call('kill', [this.sandboxId], () => this.#context.kill(this.sandboxId));
  }

  #live<T>(method: HandleMethod, args: readonly unknown[], body: () => T | Promise<T>): Promise<T> {
    return this.#context.control.call(method, args, () => {
      if (!this.#sandbox.alive) throw new SandboxGoneError(`sandbox ${this.sandboxId} has ended`);
      return body();
    });
  }
}
