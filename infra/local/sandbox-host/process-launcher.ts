/**
 * How the local sandbox host runs a sandbox. The host only talks to these interfaces:
 * - BubblewrapLauncher (the default): its own user, pid, mount and network namespaces, an
 *   unprivileged uid, seccomp, cgroup limits, and egress only through an allow-listing proxy;
 * - NamespaceLauncher (explicit, unsafe): pid and mount namespaces only, kept for comparison.
 */
import type { Readable } from 'node:stream';
import type { Duplex } from 'node:stream';
import type { SandboxFiles } from './sandbox-files.ts';
import type { SandboxLimits } from './sandbox-limits.ts';

/** The sandbox's processes are gone (it was killed, or its agent died) while something was asked of it. */
export class SandboxEndedError extends Error {
  constructor(reason: string) {
    super(`the sandbox is no longer running: ${reason}`);
    this.name = 'SandboxEndedError';
  }
}

export interface SpawnOptions {
  /** Working directory as the sandbox sees it (e.g. /home/user). */
  cwd: string;
  /** The complete environment of the process: nothing of the host's is added. */
  env: Record<string, string>;
  /** Keep stdin open for SendInput; otherwise it reads from /dev/null. */
  stdin: boolean;
}

export interface SandboxChildEvents {
  exit: [code: number | null, signal: NodeJS.Signals | null];
}

/** One command running in a sandbox, as the host sees it. */
export interface SandboxChild {
  /** Its pid as the sandbox sees it (inside its pid namespace, where it has one). */
  readonly pid: number;
  readonly stdout: Readable;
  readonly stderr: Readable;
  writeStdin(data: Buffer): void;
  closeStdin(): void;
  /** Signals the command's process group (the command and the children it did not detach). */
  signal(signal: NodeJS.Signals): void;
  /** Once, after its output streams ended. */
  once(event: 'exit', listener: (...args: SandboxChildEvents['exit']) => void): this;
}

/** The processes of one sandbox: they share its file tree, pid space and loopback. */
export interface SandboxRuntime {
  /** Runs `/bin/bash -l -c <command>` inside the sandbox, in a process group of its own. */
  spawn(command: string, options: SpawnOptions): Promise<SandboxChild>;
  /** A connection to a port that a process of this sandbox listens on (inside its network). */
  connectPort(port: number): Promise<Duplex>;
  /** The sandbox's files, reached with its own identity where the launcher has one. */
  readonly files: SandboxFiles;
  /** Environment every process of the sandbox starts with (e.g. the egress proxy), under the sandbox's own. */
  readonly baseEnv: Readonly<Record<string, string>>;
  /** Runs once if the sandbox ends by itself (its agent died); the registry then forgets it. */
  onEnded(listener: (reason: string) => void): void;
  /** Ends every process of the sandbox, including daemons that left their process group, and frees what it held. */
  destroy(): Promise<void>;
}

export interface CreateRuntimeOptions {
  sandboxId: string;
  /** Host directory that holds the sandbox's `home/user` and `tmp`. */
  rootDir: string;
  limits: SandboxLimits;
}

/** What a launcher protects on this machine, said once at start. */
export interface ProtectionReport {
  /** The launcher, e.g. "bubblewrap". */
  launcher: string;
  enabled: string[];
  /** Each protection that is off here, with the reason. */
  disabled: string[];
}

export interface ProcessLauncher {
  readonly name: string;
  /** Checks the machine, ends what crashed hosts left behind, and says what is protected. */
  prepare(): Promise<ProtectionReport>;
  createRuntime(options: CreateRuntimeOptions): Promise<SandboxRuntime>;
  /** Ends whatever a crashed earlier host left running for this sandbox directory. */
  reapLeftovers(rootDir: string): Promise<void>;
}
