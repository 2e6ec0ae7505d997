/**
 * The host's end of the IPC channel to a sandbox's agent. Requests carry ids and time out; the
 * agent's answers and events are checked against the protocol before anything acts on them:
 * the tenant runs with the agent's uid, so a message may come from the tenant. A handle (socket)
 * is only taken where the protocol expects one; any other is closed at once. An agent that keeps
 * sending invalid messages loses its sandbox.
 */
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import { Socket } from 'node:net';
import { MAX_CHUNK_BYTES, type AgentError, type AgentMessage, type HostMessage } from './agent/agent-protocol.ts';
import { SandboxEndedError } from '../process-launcher.ts';

const MAX_BASE64_LENGTH = Math.ceil(MAX_CHUNK_BYTES / 3) * 4;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,31}$/;
const MAX_ERROR_MESSAGE = 2_000;
const MAX_INVALID_MESSAGES = 50;
const KNOWN_SIGNALS = new Set(Object.keys(constants.signals));

/** An operation the agent tried and reports failed (a Node errno code, e.g. ENOENT). */
export class AgentOperationError extends Error {
  readonly code: string;

  constructor(error: AgentError) {
    super(error.message);
    this.name = 'AgentOperationError';
    this.code = error.code;
  }
}

export class AgentTimeoutError extends Error {
  constructor(what: string, timeoutMs: number) {
    super(`the sandbox agent did not answer ${what} within ${timeoutMs} ms`);
    this.name = 'AgentTimeoutError';
  }
}

export interface AgentReply {
  value: unknown;
  handle?: Socket;
}

export interface ProcessSink {
  onOutput(fd: 1 | 2, data: Buffer): void;
  onExit(code: number | null, signal: NodeJS.Signals | null): void;
}

export interface StreamSink {
  onChunk(data: Buffer): void;
  onEnd(): void;
}

interface Pending {
  resolve(reply: AgentReply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  wantsHandle: boolean;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
export type HostRequest = DistributiveOmit<HostMessage, 'id'>;

export class AgentChannel {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, Pending>();
  readonly #processes = new Map<number, ProcessSink>();
  readonly #streams = new Map<number, StreamSink>();
  readonly #closedListeners: ((reason: string) => void)[] = [];
  #egressListener: (socket: Socket) => void = (socket) => socket.destroy();
  #nextId = 1;
  #invalidMessages = 0;
  #ready = false;
  #readyWaiters: { resolve(): void; reject(error: Error): void }[] = [];
  #closedReason: string | undefined;

  constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: unknown, handle: unknown) => this.#receive(message, handle));
    child.once('disconnect', () => this.close('its channel closed'));
    child.once('exit', (code, signal) => this.close(`bwrap exited (${signal ?? `code ${code}`})`));
  }

  get closed(): boolean {
    return this.#closedReason !== undefined;
  }

  nextId(): number {
    return this.#nextId++;
  }

  whenReady(timeoutMs: number): Promise<void> {
    if (this.#ready) return Promise.resolve();
    if (this.#closedReason) return Promise.reject(new SandboxEndedError(this.#closedReason));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new AgentTimeoutError('its start', timeoutMs)), timeoutMs);
      this.#readyWaiters.push({
        resolve: () => (clearTimeout(timer), resolve()),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
    });
  }

  /** Sends a request with the given id (see nextId) and waits for its reply. */
  request(id: number, message: HostRequest, options: { timeoutMs: number; handle?: boolean }): Promise<AgentReply> {
    if (this.#closedReason) return Promise.reject(new SandboxEndedError(this.#closedReason));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new AgentTimeoutError(message.t, options.timeoutMs));
      }, options.timeoutMs);
      this.#pending.set(id, { resolve, reject, timer, wantsHandle: options.handle === true });
      this.post(id, message).catch((error: Error) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(error);
      });
    });
  }

  /** Sends a message that has no reply; resolves once it is written to the channel. */
  post(id: number, message: HostRequest): Promise<void> {
    if (this.#closedReason) return Promise.reject(new SandboxEndedError(this.#closedReason));
    return new Promise((resolve, reject) => {
      try {
        this.#child.send({ ...message, id }, undefined, {}, (error) => (error ? reject(error) : resolve()));
      } catch (error) {
        reject(error as Error);
      }
    });
  }

  registerProcess(id: number, sink: ProcessSink): void {
    this.#processes.set(id, sink);
  }

  unregisterProcess(id: number): void {
    this.#processes.delete(id);
  }

  registerStream(id: number, sink: StreamSink): void {
    this.#streams.set(id, sink);
  }

  unregisterStream(id: number): void {
    this.#streams.delete(id);
  }

  onEgress(listener: (socket: Socket) => void): void {
    this.#egressListener = listener;
  }

  onClosed(listener: (reason: string) => void): void {
    if (this.#closedReason) listener(this.#closedReason);
    else this.#closedListeners.push(listener);
  }

  /** Fails everything outstanding: requests reject, processes end as killed, streams end. */
  close(reason: string): void {
    if (this.#closedReason) return;
    this.#closedReason = reason;
    const error = new SandboxEndedError(reason);
    for (const waiter of this.#readyWaiters) waiter.reject(error);
    this.#readyWaiters = [];
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.#pending.clear();
    for (const sink of this.#processes.values()) sink.onExit(null, 'SIGKILL');
    this.#processes.clear();
    for (const sink of this.#streams.values()) sink.onEnd();
    this.#streams.clear();
    if (this.#child.connected) this.#child.disconnect();
    for (const listener of this.#closedListeners) listener(reason);
  }

  #receive(raw: unknown, handle: unknown): void {
    const message = parseAgentMessage(raw);
    const socket = handle instanceof Socket ? handle : undefined;
    if (handle !== undefined && !socket) closeHandle(handle);
    if (!message) return this.#refuse(socket);
    if (this.#closedReason) return void socket?.destroy();
    switch (message.t) {
      case 'ready': {
        this.#ready = true;
        for (const waiter of this.#readyWaiters) waiter.resolve();
        this.#readyWaiters = [];
        socket?.destroy();
        return;
      }
      case 'reply': {
        const pending = this.#pending.get(message.id);
        if (!pending) return this.#refuse(socket);
        this.#pending.delete(message.id);
        clearTimeout(pending.timer);
        if (!message.ok) {
          socket?.destroy();
          return pending.reject(new AgentOperationError(message.error));
        }
        if (pending.wantsHandle && !socket) return pending.reject(new AgentOperationError({ code: 'EPROTO', message: 'the agent answered without a socket' }));
        if (!pending.wantsHandle) socket?.destroy();
        return pending.resolve({ value: message.value, ...(pending.wantsHandle ? { handle: socket! } : {}) });
      }
      case 'out': {
        socket?.destroy();
        return void this.#processes.get(message.id)?.onOutput(message.fd, Buffer.from(message.data, 'base64'));
      }
      case 'exit': {
        socket?.destroy();
        const sink = this.#processes.get(message.id);
        this.#processes.delete(message.id);
        return sink?.onExit(message.code, message.signal as NodeJS.Signals | null);
      }
      case 'chunk': {
        socket?.destroy();
        return void this.#streams.get(message.id)?.onChunk(Buffer.from(message.data, 'base64'));
      }
      case 'end': {
        socket?.destroy();
        const sink = this.#streams.get(message.id);
        this.#streams.delete(message.id);
        return sink?.onEnd();
      }
      case 'egress':
        if (!socket) return this.#refuse(undefined);
        return this.#egressListener(socket);
    }
  }

  #refuse(socket: Socket | undefined): void {
    socket?.destroy();
    if (this.#closedReason) return;
    this.#invalidMessages += 1;
    if (this.#invalidMessages === MAX_INVALID_MESSAGES) this.close(`it sent ${MAX_INVALID_MESSAGES} invalid messages`);
  }
}

/** The message if it has exactly one of the protocol's shapes, else undefined. */
export function parseAgentMessage(raw: unknown): AgentMessage | undefined {
  if (!isRecord(raw) || typeof raw.t !== 'string') return undefined;
  switch (raw.t) {
    case 'ready':
    case 'egress':
      return { t: raw.t };
    case 'reply':
      if (!isId(raw.id) || typeof raw.ok !== 'boolean') return undefined;
      if (raw.ok) return { t: 'reply', id: raw.id, ok: true, value: raw.value };
      if (!isRecord(raw.error) || typeof raw.error.code !== 'string' || typeof raw.error.message !== 'string') return undefined;
      return {
        t: 'reply',
        id: raw.id,
        ok: false,
        error: {
          code: ERROR_CODE.test(raw.error.code) ? raw.error.code : 'EUNKNOWN',
          message: raw.error.message.slice(0, MAX_ERROR_MESSAGE),
        },
      };
    case 'out':
      if (!isId(raw.id) || (raw.fd !== 1 && raw.fd !== 2) || !isBase64(raw.data)) return undefined;
      return { t: 'out', id: raw.id, fd: raw.fd, data: raw.data };
    case 'exit': {
      const code = raw.code === null || (Number.isInteger(raw.code) && (raw.code as number) >= 0 && (raw.code as number) <= 255) ? (raw.code as number | null) : undefined;
      const signal = raw.signal === null || (typeof raw.signal === 'string' && KNOWN_SIGNALS.has(raw.signal)) ? (raw.signal as string | null) : undefined;
      if (!isId(raw.id) || code === undefined || signal === undefined) return undefined;
      return { t: 'exit', id: raw.id, code, signal };
    }
    case 'chunk':
      if (!isId(raw.id) || !isBase64(raw.data)) return undefined;
      return { t: 'chunk', id: raw.id, data: raw.data };
    case 'end':
      if (!isId(raw.id)) return undefined;
      return { t: 'end', id: raw.id };
    default:
      return undefined;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isId(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

function isBase64(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_BASE64_LENGTH && BASE64.test(value);
}

function closeHandle(handle: unknown): void {
  const closable = handle as { destroy?: () => void; close?: () => void };
  try {
    if (typeof closable.destroy === 'function') closable.destroy();
    else if (typeof closable.close === 'function') closable.close();
  } catch {
    // nothing more to do with a handle we did not ask for
  }
}
