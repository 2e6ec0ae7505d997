/**
 * The sandbox port: what the domain needs from a cloud sandbox, in the product's own terms.
 * Adapters (AgentSphere) implement it; nothing outside an adapter imports a sandbox SDK.
 * Every method throws only the errors of ./errors.ts.
 */

/** Metadata every CodeRunner sandbox carries; `list` filters on it. */
export interface SandboxMetadata {
  userId: string;
  projectId: string;
  deploymentId: string;
  /** Extra string labels; all keys and values are strings on the wire. */
  [key: string]: string;
}

export interface CreateSandboxInput {
  metadata: SandboxMetadata;
  /** Seconds until the provider ends the sandbox on its own. */
  lifetimeSeconds: number;
  /** Environment variables every process of the sandbox sees. */
  env?: Record<string, string>;
}

export interface SandboxSummary {
  sandboxId: string;
  metadata: Record<string, string>;
  startedAt: Date;
  expiresAt: Date;
}

export interface FileToWrite {
  /** Absolute, or relative to the sandbox user's home directory. */
  path: string;
  content: Uint8Array | string;
}

/** A file whose bytes are streamed from elsewhere (S3): `open` may be called again on a retry. */
export interface StreamToWrite {
  /** Absolute, or relative to the sandbox user's home directory. */
  path: string;
  /** Exactly the bytes `open` yields. */
  size: number;
  open(): AsyncIterable<Uint8Array>;
}

export interface RunOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Deadline for the command; the process is ended when it passes. Default 60 s. */
  timeoutMs?: number;
}

export interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface BackgroundOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** Files inside the sandbox that receive the process's output (appended). */
  stdoutPath: string;
  stderrPath: string;
}

export interface ProcessSummary {
  pid: number;
  command: string;
  cwd?: string;
}

/** A connected sandbox. */
export interface SandboxHandle {
  readonly sandboxId: string;

  /** Writes every file in ONE request; parent directories are created. */
  writeFiles(files: readonly FileToWrite[]): Promise<void>;
  /**
   * Writes every file in ONE request, streaming each file's bytes: memory stays bounded whatever
   * the sizes. Parent directories are created; an overwrite, so repeating it is safe.
   */
  writeFileStreams(files: readonly StreamToWrite[]): Promise<void>;
  readFile(path: string): Promise<Uint8Array>;
  /** Creates the directory and its parents; an existing directory is fine. */
  makeDir(path: string): Promise<void>;

  /** Runs a command to completion. A non-zero exit is a result, not an error. */
  run(command: string, options?: RunOptions): Promise<CommandResult>;
  /** Starts a long-running process that outlives this call and has no deadline. */
  startBackground(command: string, options: BackgroundOptions): Promise<{ pid: number }>;
  listProcesses(): Promise<ProcessSummary[]>;
  /** Ends a process; false when it was not running. */
  killProcess(pid: number): Promise<boolean>;

  /** `https://...` URL of a port inside the sandbox, as the provider exposes it. */
  portUrl(port: number): string;
  isAlive(): Promise<boolean>;
  extendLifetime(lifetimeSeconds: number): Promise<void>;
  kill(): Promise<void>;
}

export interface SandboxProvider {
  create(input: CreateSandboxInput): Promise<SandboxHandle>;
  /** Connects to a live sandbox; SandboxNotFoundError or SandboxGoneError otherwise. */
  connect(sandboxId: string): Promise<SandboxHandle>;
  /** Live sandboxes whose metadata contains every given key/value. */
  list(filter: Partial<SandboxMetadata>): Promise<SandboxSummary[]>;
  /** Sets the remaining lifetime to `lifetimeSeconds` from now. */
  extendLifetime(sandboxId: string, lifetimeSeconds: number): Promise<void>;
  /** Ends the sandbox. Idempotent: a sandbox that is already gone is not an error. */
  kill(sandboxId: string): Promise<void>;
  isAlive(sandboxId: string): Promise<boolean>;
}
