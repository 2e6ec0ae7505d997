/**
 * A command the agent runs inside the sandbox, seen from the host: its pid in the sandbox's pid
 * namespace, its output as streams, and stdin and signals sent to the agent.
 */
import { PassThrough } from 'node:stream';
import { MAX_CHUNK_BYTES } from './agent/agent-protocol.ts';
import type { AgentChannel, ProcessSink } from './agent-channel.ts';
import type { SandboxChild, SandboxChildEvents } from '../process-launcher.ts';

export class AgentProcess implements SandboxChild, ProcessSink {
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly #channel: AgentChannel;
  readonly #id: number;
  #pid = 0;
  #exit: SandboxChildEvents['exit'] | undefined;
  #exitListeners: ((...args: SandboxChildEvents['exit']) => void)[] = [];

  /** Registered before the spawn request is sent: output may follow its reply at once. */
  constructor(channel: AgentChannel, id: number) {
    this.#channel = channel;
    this.#id = id;
    channel.registerProcess(id, this);
  }

  get pid(): number {
    return this.#pid;
  }

  started(pid: number): void {
    this.#pid = pid;
  }

  onOutput(fd: 1 | 2, data: Buffer): void {
    if (this.#exit) return;
    (fd === 1 ? this.stdout : this.stderr).write(data);
  }

  onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#exit) return;
    this.#exit = [code, signal];
    this.stdout.end();
    this.stderr.end();
    for (const listener of this.#exitListeners.splice(0)) listener(code, signal);
  }

  once(_event: 'exit', listener: (...args: SandboxChildEvents['exit']) => void): this {
    const exit = this.#exit;
    if (exit) queueMicrotask(() => listener(...exit));
    else this.#exitListeners.push(listener);
    return this;
  }

  writeStdin(data: Buffer): void {
    for (let offset = 0; offset < data.length; offset += MAX_CHUNK_BYTES) {
      const piece = data.subarray(offset, offset + MAX_CHUNK_BYTES).toString('base64');
      this.#channel.post(this.#id, { t: 'stdin', data: piece }).catch(() => {});
    }
  }

  closeStdin(): void {
    this.#channel.post(this.#id, { t: 'closeStdin' }).catch(() => {});
  }

  signal(signal: NodeJS.Signals): void {
    this.#channel.post(this.#id, { t: 'signal', signal }).catch(() => {});
  }
}
