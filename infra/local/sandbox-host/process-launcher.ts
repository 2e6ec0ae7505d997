/**
 * How the local sandbox host runs a sandbox's processes. The host only talks to this interface,
 * so a launcher with stronger isolation (user/network namespaces, cgroup limits; see
 * shared/docs/local-sandbox-isolation-facts.md) can replace the namespace launcher below.
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';

export interface SpawnOptions {
  /** Working directory as the sandbox sees it (e.g. /home/user). */
  cwd: string;
  /** The complete environment of the process: nothing of the host's is added. */
  env: Record<string, string>;
  /** Keep stdin open for SendInput; otherwise it reads from /dev/null. */
  stdin: boolean;
}

/** The processes of one sandbox: they share its file tree, pid space and loopback. */
export interface SandboxRuntime {
  /** Runs `/bin/bash -l -c <command>` inside the sandbox, in a process group of its own. */
  spawn(command: string, options: SpawnOptions): ChildProcess;
  /** Opens a TCP connection to a port that a process of this sandbox listens on. */
  connectPort(port: number): Socket;
  /** Ends every process of the sandbox, including daemons that left their process group. */
  destroy(): Promise<void>;
}

export interface CreateRuntimeOptions {
  sandboxId: string;
  /** Host directory that holds the sandbox's `home/user` and `tmp`. */
  rootDir: string;
}

export interface ProcessLauncher {
  readonly name: string;
  createRuntime(options: CreateRuntimeOptions): Promise<SandboxRuntime>;
  /** Ends whatever a crashed earlier host left running for this sandbox directory. */
  reapLeftovers(rootDir: string): Promise<void>;
}
