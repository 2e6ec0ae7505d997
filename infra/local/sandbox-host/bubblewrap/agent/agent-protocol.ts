/**
 * The messages between the sandbox host and its agent inside a sandbox, over the Node IPC channel
 * (JSON, one message a line; sockets travel as handles next to a message). The host trusts
 * nothing the agent sends: the tenant shares the agent's uid and may have taken it over, so the
 * host checks every message against these shapes (agent-channel.ts) before acting on it.
 */

/** Largest piece of output or file content in one message (decoded bytes). */
export const MAX_CHUNK_BYTES = 64 * 1024;
/** The agent's listener that forwards egress to the host's allow-listing proxy. */
export const EGRESS_PROXY_PORT = 3128;

export type FileOperation = 'stat' | 'makeDir' | 'move' | 'listDir' | 'remove' | 'read';

export type HostMessage =
  | { t: 'spawn'; id: number; command: string; cwd: string; env: Record<string, string>; stdin: boolean }
  | { t: 'stdin'; id: number; data: string }
  | { t: 'closeStdin'; id: number }
  | { t: 'signal'; id: number; signal: string }
  | { t: 'connect'; id: number; port: number }
  | { t: 'fs'; id: number; op: FileOperation; path: string; destination?: string; depth?: number }
  | { t: 'writeOpen'; id: number; path: string }
  /** Answered once written (flow control for uploads). */
  | { t: 'writeChunk'; id: number; data: string }
  | { t: 'writeEnd'; id: number };

export interface AgentError {
  /** A Node errno code (ENOENT, EEXIST, ENOSPC, ...) or one of the agent's own (EINVAL). */
  code: string;
  message: string;
}

export type EntryType = 'file' | 'directory';

export interface Entry {
  name: string;
  type: EntryType;
  path: string;
}

export type AgentMessage =
  | { t: 'ready' }
  /** The answer to request `id`; a `connect` answer carries the connected socket as its handle. */
  | { t: 'reply'; id: number; ok: true; value?: unknown }
  | { t: 'reply'; id: number; ok: false; error: AgentError }
  /** Output of the process started by spawn request `id` (base64). */
  | { t: 'out'; id: number; fd: 1 | 2; data: string }
  /** The process of spawn request `id` ended; all its output was sent before. */
  | { t: 'exit'; id: number; code: number | null; signal: string | null }
  /** A piece of the file that read request `id` reads (base64), then `end`. */
  | { t: 'chunk'; id: number; data: string }
  | { t: 'end'; id: number }
  /** A connection to the egress listener, as its handle. */
  | { t: 'egress' };
