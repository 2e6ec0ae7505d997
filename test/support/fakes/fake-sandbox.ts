/**
 * One sandbox of the fake provider, as a test sees and shapes it: its metadata and lifetime
 * (alive until killed or past its expiry on the fake clock), its files, its processes, its
 * memory counters, and the scripted answers of its commands.
 */
import { posix } from 'node:path';
import { CommandRules, type CommandMatch, type ProgramBehaviour, type RunResponder } from './command-rules.ts';
import { FakeProcess, type FakeProcessInit } from './fake-process.ts';

const HOME = '/home/user';

export interface FakeFile {
  content: Uint8Array;
  modifiedAt: Date;
}

export interface FakeSandboxInit {
  sandboxId: string;
  metadata: Record<string, string>;
  env: Record<string, string>;
  startedAt: Date;
  expiresAt: Date;
  now: () => Date;
}

export class FakeSandbox {
  readonly sandboxId: string;
  readonly metadata: Record<string, string>;
  readonly env: Record<string, string>;
  readonly startedAt: Date;
  expiresAt: Date;
  killedAt?: Date;
  readonly files = new Map<string, FakeFile>();
  readonly directories = new Set<string>([HOME]);
  readonly processes = new Map<number, FakeProcess>();
  /** The memory cgroup's counters, as the sandbox reports them. */
  readonly memory: { oomKills: number; limitBytes?: number } = { oomKills: 0 };
  /** What the sandbox's own tools report (the dependency probe reads them). */
  readonly toolchain: { node: string; arch: string; npm?: string; zstd: boolean } = { node: 'v20.20.2', arch: 'x86_64', npm: '11.19.1', zstd: true };
  readonly commands = new CommandRules<RunResponder>();
  readonly programs = new CommandRules<ProgramBehaviour>();
  readonly #now: () => Date;
  #nextPid = 100;

  constructor(init: FakeSandboxInit) {
    this.sandboxId = init.sandboxId;
    this.metadata = { ...init.metadata };
    this.env = { ...init.env };
    this.startedAt = init.startedAt;
    this.expiresAt = init.expiresAt;
    this.#now = init.now;
  }

  /** Alive until killed, or until the provider ends it at its expiry. */
  get alive(): boolean {
    return this.killedAt === undefined && this.#now() < this.expiresAt;
  }

  /** What `run` answers for matching commands (the newest rule first). */
  onRun(match: CommandMatch, responder: RunResponder, times?: number): this {
    this.commands.add(match, responder, times);
    return this;
  }

  /** What a background process whose command matches does when it starts. */
  onStart(match: CommandMatch, behaviour: ProgramBehaviour, times?: number): this {
    this.programs.add(match, behaviour, times);
    return this;
  }

  startProcess(init: Omit<FakeProcessInit, 'pid'>): FakeProcess {
    const process = new FakeProcess(this, { ...init, pid: this.#nextPid++ });
    this.processes.set(process.pid, process);
    return process;
  }

  /** Ends the sandbox and everything in it. */
  end(): void {
    this.killedAt ??= this.#now();
    for (const process of [...this.processes.values()]) process.exit();
  }

  writeFile(path: string, content: Uint8Array | string): void {
    const absolute = resolvePath(path);
    this.files.set(absolute, { content: typeof content === 'string' ? new TextEncoder().encode(content) : new Uint8Array(content), modifiedAt: this.#now() });
    this.makeDir(posix.dirname(absolute));
  }

  appendFile(path: string, text: string): void {
    const absolute = resolvePath(path);
    const before = this.files.get(absolute)?.content ?? new Uint8Array();
    this.writeFile(absolute, Buffer.concat([before, Buffer.from(text)]));
  }

  readText(path: string): string | undefined {
    const file = this.files.get(resolvePath(path));
    return file && new TextDecoder().decode(file.content);
  }

  makeDir(path: string): void {
    for (let dir = resolvePath(path); dir !== '/'; dir = posix.dirname(dir)) this.directories.add(dir);
  }

  /** Files under a directory (absolute paths, sorted). */
  filesUnder(dir: string): string[] {
    const prefix = `${resolvePath(dir)}/`;
    return [...this.files.keys()].filter((path) => path.startsWith(prefix)).sort();
  }

  deleteFile(path: string): void {
    this.files.delete(resolvePath(path));
  }
}

/** Absolute, or relative to the sandbox user's home directory (as the port says). */
export function resolvePath(path: string): string {
  return posix.resolve(HOME, path);
}
