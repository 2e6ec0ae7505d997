/**
 * A sandbox's files as the daemon's file endpoints and Filesystem service use them. Paths are
 * absolute sandbox paths (see sandboxPath). Two implementations:
 * - HostMappedFiles (below): the host reads and writes the sandbox's directory itself;
 * - AgentFiles (bubblewrap/agent-files.ts): the agent inside does it with the sandbox's own uid,
 *   so files are the sandbox's and no symlink can lead the host anywhere.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hostPath, SandboxPathError, toSandboxPath } from './sandbox-paths.ts';

export type SandboxFileErrorCode =
  | 'not_found'
  | 'already_exists'
  | 'not_a_directory'
  | 'is_a_directory'
  | 'permission_denied'
  | 'no_space'
  | 'invalid';

export class SandboxFileError extends Error {
  readonly code: SandboxFileErrorCode;

  constructor(code: SandboxFileErrorCode, message: string) {
    super(message);
    this.name = 'SandboxFileError';
    this.code = code;
  }
}

export interface SandboxEntry {
  name: string;
  type: 'file' | 'directory';
  path: string;
}

export interface SandboxFiles {
  stat(path: string): Promise<SandboxEntry>;
  /** Creates it with its parents; `already_exists` if it is there. */
  makeDir(path: string): Promise<SandboxEntry>;
  move(source: string, destination: string): Promise<SandboxEntry>;
  listDir(path: string, depth: number): Promise<SandboxEntry[]>;
  remove(path: string): Promise<void>;
  read(path: string): Promise<{ size: number; content: Readable }>;
  /** Creates or replaces the file, and its parent directories. */
  write(path: string, content: Readable): Promise<SandboxEntry>;
}

/** The sandbox's `/home` and `/tmp` are directories of the host, under rootDir. */
export class HostMappedFiles implements SandboxFiles {
  readonly #rootDir: string;

  constructor(rootDir: string) {
    this.#rootDir = rootDir;
  }

  async stat(path: string): Promise<SandboxEntry> {
    return this.#entry(await this.#map(path), path);
  }

  async makeDir(path: string): Promise<SandboxEntry> {
    const target = await this.#map(path);
    if (await exists(target)) throw new SandboxFileError('already_exists', `directory '${path}' already exists`);
    await mkdir(target, { recursive: true });
    return this.#entry(target, path);
  }

  async move(source: string, destination: string): Promise<SandboxEntry> {
    const from = await this.#map(source);
    const to = await this.#map(destination);
    if (!(await exists(from))) throw new SandboxFileError('not_found', `path '${source}' does not exist`);
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to);
    return this.#entry(to, destination);
  }

  async listDir(path: string, depth: number): Promise<SandboxEntry[]> {
    const target = await this.#map(path);
    const info = await stat(target).catch(() => undefined);
    if (!info) throw new SandboxFileError('not_found', `path '${path}' does not exist`);
    if (!info.isDirectory()) throw new SandboxFileError('not_a_directory', `path '${path}' is not a directory`);
    return this.#list(target, Math.max(1, depth));
  }

  async remove(path: string): Promise<void> {
    const target = await this.#map(path);
    if (!(await exists(target))) throw new SandboxFileError('not_found', `path '${path}' does not exist`);
    await rm(target, { recursive: true, force: true });
  }

  async read(path: string): Promise<{ size: number; content: Readable }> {
    const target = await this.#map(path);
    const info = await stat(target).catch(() => undefined);
    if (!info) throw new SandboxFileError('not_found', `path '${path}' does not exist`);
    if (info.isDirectory()) throw new SandboxFileError('is_a_directory', `path '${path}' is a directory`);
    return { size: info.size, content: createReadStream(target) };
  }

  async write(path: string, content: Readable): Promise<SandboxEntry> {
    const target = await this.#map(path);
    await mkdir(dirname(target), { recursive: true });
    await pipeline(content, createWriteStream(target));
    return { name: basename(path), type: 'file', path };
  }

  async #map(path: string): Promise<string> {
    try {
      return await hostPath(this.#rootDir, path);
    } catch (error) {
      if (error instanceof SandboxPathError) throw new SandboxFileError('permission_denied', error.message);
      throw error;
    }
  }

  async #entry(target: string, path: string): Promise<SandboxEntry> {
    const info = await stat(target).catch(() => undefined);
    if (!info) throw new SandboxFileError('not_found', `path '${path}' does not exist`);
    return { name: basename(target), type: info.isDirectory() ? 'directory' : 'file', path: toSandboxPath(this.#rootDir, target) };
  }

  async #list(dir: string, depth: number): Promise<SandboxEntry[]> {
    const entries: SandboxEntry[] = [];
    for (const dirent of await readdir(dir, { withFileTypes: true })) {
      const child = join(dir, dirent.name);
      entries.push({ name: dirent.name, type: dirent.isDirectory() ? 'directory' : 'file', path: toSandboxPath(this.#rootDir, child) });
      if (dirent.isDirectory() && depth > 1) entries.push(...(await this.#list(child, depth - 1)));
    }
    return entries;
  }
}

async function exists(target: string): Promise<boolean> {
  return stat(target).then(() => true, () => false);
}
