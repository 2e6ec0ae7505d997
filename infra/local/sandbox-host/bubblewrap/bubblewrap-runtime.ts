/**
 * One running bubblewrap sandbox, driven through its agent: commands, app ports (the agent
 * connects inside and hands the host the connected socket, so data flows host <-> app with no
 * copy in between), files, and egress connections for the allow-listing proxy. Killing the
 * launch process (bwrap) ends the pid namespace and every process in it, daemons included.
 */
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { EGRESS_PROXY_PORT } from './agent/agent-protocol.ts';
import { AgentOperationError, type AgentChannel } from './agent-channel.ts';
import { AgentFiles } from './agent-files.ts';
import { AgentProcess } from './agent-process.ts';
import type { EgressProxy } from './egress-proxy.ts';
import type { SandboxChild, SandboxRuntime, SpawnOptions } from '../process-launcher.ts';

const SPAWN_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 15_000;
const MAX_EGRESS_CONNECTIONS = 128;
const MAX_PID = 4_194_304;
const PROXY_URL = `http://127.0.0.1:${EGRESS_PROXY_PORT}`;

/** Every sandbox process goes out through the proxy (npm, curl, pip, yarn, pnpm read these). */
export const SANDBOX_EGRESS_ENV: Readonly<Record<string, string>> = Object.freeze({
  https_proxy: PROXY_URL,
  http_proxy: PROXY_URL,
  HTTPS_PROXY: PROXY_URL,
  HTTP_PROXY: PROXY_URL,
  npm_config_proxy: PROXY_URL,
  npm_config_https_proxy: PROXY_URL,
  no_proxy: 'localhost,127.0.0.1,::1',
  NO_PROXY: 'localhost,127.0.0.1,::1',
  // TLS on this machine kind needs the system's CA bundle (it is bound read-only inside).
  NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt',
});

export interface BubblewrapRuntimeParts {
  /** The launch process, bwrap once it exec'd. */
  bwrap: ChildProcess;
  channel: AgentChannel;
  egress: EgressProxy;
  /** Frees what the sandbox holds outside its processes (cgroups, disk, uid), once they are gone. */
  release(): Promise<void>;
  /** The last lines bwrap and the agent wrote to stderr, for messages. */
  diagnostics(): string;
}

export class BubblewrapRuntime implements SandboxRuntime {
  readonly files: AgentFiles;
  readonly baseEnv = SANDBOX_EGRESS_ENV;
  readonly #parts: BubblewrapRuntimeParts;
  readonly #egressSockets = new Set<Socket>();
  readonly #endedListeners: ((reason: string) => void)[] = [];
  #destroyed: Promise<void> | undefined;

  constructor(parts: BubblewrapRuntimeParts) {
    this.#parts = parts;
    this.files = new AgentFiles(parts.channel);
    parts.channel.onEgress((socket) => this.#egress(socket));
    parts.channel.onClosed((reason) => {
      if (this.#destroyed) return;
      const diagnostics = parts.diagnostics();
      for (const listener of this.#endedListeners) listener(diagnostics ? `${reason}; ${diagnostics}` : reason);
    });
  }

  async spawn(command: string, { cwd, env, stdin }: SpawnOptions): Promise<SandboxChild> {
    const { channel } = this.#parts;
    const id = channel.nextId();
    const child = new AgentProcess(channel, id);
    try {
      const { value } = await channel.request(id, { t: 'spawn', command, cwd, env, stdin }, { timeoutMs: SPAWN_TIMEOUT_MS });
      const pid = (value as { pid?: unknown } | undefined)?.pid;
      if (!Number.isSafeInteger(pid) || (pid as number) < 1 || (pid as number) > MAX_PID) throw new Error('the sandbox agent gave an invalid pid');
      child.started(pid as number);
      return child;
    } catch (error) {
      channel.unregisterProcess(id);
      throw error;
    }
  }

  async connectPort(port: number): Promise<Duplex> {
    const { channel } = this.#parts;
    try {
      const { handle } = await channel.request(channel.nextId(), { t: 'connect', port }, { timeoutMs: CONNECT_TIMEOUT_MS, handle: true });
      return handle!;
    } catch (error) {
      if (error instanceof AgentOperationError) throw Object.assign(new Error(`port ${port}: ${error.message}`), { code: error.code });
      throw error;
    }
  }

  onEnded(listener: (reason: string) => void): void {
    this.#endedListeners.push(listener);
  }

  destroy(): Promise<void> {
    this.#destroyed ??= this.#destroy();
    return this.#destroyed;
  }

  async #destroy(): Promise<void> {
    const { bwrap, channel } = this.#parts;
    for (const socket of this.#egressSockets) socket.destroy();
    if (bwrap.exitCode === null && bwrap.signalCode === null) {
      const exited = new Promise((resolve) => bwrap.once('exit', resolve));
      // bwrap dies, its pid 1 gets SIGKILL (--die-with-parent), and with it the whole namespace.
      bwrap.kill('SIGKILL');
      await exited;
    }
    channel.close('the sandbox was killed');
    await this.#parts.release();
  }

  #egress(socket: Socket): void {
    if (this.#egressSockets.size >= MAX_EGRESS_CONNECTIONS) return void socket.destroy();
    this.#egressSockets.add(socket);
    socket.once('close', () => this.#egressSockets.delete(socket));
    socket.on('error', () => socket.destroy());
    this.#parts.egress.handle(socket);
  }
}
