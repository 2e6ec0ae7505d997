/**
 * A sandbox's files, read and written by its agent inside (with the sandbox's uid and its view of
 * the filesystem). Files the host uploads are the sandbox's own, and a symlink the tenant plants
 * can only lead to another of the sandbox's files. What the agent answers is checked: paths are
 * strings, types are file or directory, sizes are numbers.
 */
import { PassThrough, type Readable } from 'node:stream';
import { MAX_CHUNK_BYTES, type FileOperation } from './agent/agent-protocol.ts';
import { AgentOperationError, type AgentChannel, type HostRequest } from './agent-channel.ts';
import { SandboxFileError, type SandboxEntry, type SandboxFileErrorCode, type SandboxFiles } from '../sandbox-files.ts';

const FILE_TIMEOUT_MS = 60_000;

const FILE_ERROR_BY_ERRNO: Record<string, SandboxFileErrorCode> = {
  ENOENT: 'not_found',
  EEXIST: 'already_exists',
  ENOTDIR: 'not_a_directory',
  EISDIR: 'is_a_directory',
  EACCES: 'permission_denied',
  EPERM: 'permission_denied',
  EROFS: 'permission_denied',
  ENOSPC: 'no_space',
  EDQUOT: 'no_space',
  EFBIG: 'no_space',
  ENAMETOOLONG: 'invalid',
  EINVAL: 'invalid',
};

export class AgentFiles implements SandboxFiles {
  readonly #channel: AgentChannel;

  constructor(channel: AgentChannel) {
    this.#channel = channel;
  }

  async stat(path: string): Promise<SandboxEntry> {
    return toEntry(await this.#operation('stat', path));
  }

  async makeDir(path: string): Promise<SandboxEntry> {
    return toEntry(await this.#operation('makeDir', path));
  }

  async move(source: string, destination: string): Promise<SandboxEntry> {
    return toEntry(await this.#operation('move', source, { destination }));
  }

  async listDir(path: string, depth: number): Promise<SandboxEntry[]> {
    const value = await this.#operation('listDir', path, { depth });
    if (!Array.isArray(value)) throw invalidAnswer();
    return value.map(toEntry);
  }

  async remove(path: string): Promise<void> {
    await this.#operation('remove', path);
  }

  async read(path: string): Promise<{ size: number; content: Readable }> {
    const id = this.#channel.nextId();
    const content = new PassThrough();
    this.#channel.registerStream(id, { onChunk: (data) => content.write(data), onEnd: () => content.end() });
    try {
      const { value } = await mapErrors(this.#channel.request(id, { t: 'fs', op: 'read', path }, { timeoutMs: FILE_TIMEOUT_MS }));
      const size = (value as { size?: unknown } | undefined)?.size;
      if (!Number.isSafeInteger(size) || (size as number) < 0) throw invalidAnswer();
      return { size: size as number, content };
    } catch (error) {
      this.#channel.unregisterStream(id);
      throw error;
    }
  }

  async write(path: string, content: Readable): Promise<SandboxEntry> {
    const id = this.#channel.nextId();
    await mapErrors(this.#channel.request(id, { t: 'writeOpen', path }, { timeoutMs: FILE_TIMEOUT_MS }));
    let failure: unknown;
    try {
      for await (const chunk of content) {
        const bytes = chunk as Buffer;
        for (let offset = 0; offset < bytes.length; offset += MAX_CHUNK_BYTES) {
          await this.#channel.request(id, { t: 'writeChunk', data: bytes.subarray(offset, offset + MAX_CHUNK_BYTES).toString('base64') }, { timeoutMs: FILE_TIMEOUT_MS });
        }
      }
    } catch (error) {
      failure = error;
    }
    // Always closes the agent's file, also when the upload broke off.
    const closed = await mapErrors(this.#channel.request(id, { t: 'writeEnd' }, { timeoutMs: FILE_TIMEOUT_MS }));
    if (failure) throw failure;
    return toEntry(closed.value);
  }

  async #operation(op: Exclude<FileOperation, 'read'>, path: string, extra: Partial<Extract<HostRequest, { t: 'fs' }>> = {}): Promise<unknown> {
    const id = this.#channel.nextId();
    const { value } = await mapErrors(this.#channel.request(id, { t: 'fs', op, path, ...extra }, { timeoutMs: FILE_TIMEOUT_MS }));
    return value;
  }
}

async function mapErrors<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof AgentOperationError) {
      throw new SandboxFileError(FILE_ERROR_BY_ERRNO[error.code] ?? 'invalid', error.message);
    }
    throw error;
  }
}

function toEntry(value: unknown): SandboxEntry {
  const entry = value as Partial<SandboxEntry> | undefined;
  if (!entry || typeof entry.name !== 'string' || typeof entry.path !== 'string' || (entry.type !== 'file' && entry.type !== 'directory')) {
    throw invalidAnswer();
  }
  return { name: entry.name.slice(0, 4096), type: entry.type, path: entry.path.slice(0, 4096) };
}

function invalidAnswer(): Error {
  return new Error('the sandbox agent gave an invalid answer');
}
