/**
 * The sandbox daemon's plain-HTTP file endpoints: `GET /files` reads one file as raw bytes;
 * `POST /files` writes one file (`?path=`) or many in one multipart request (each part's
 * filename is its target path), creating parent directories.
 */
import busboy from 'busboy';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalSandbox } from './local-sandbox.ts';
import { hostPath, sandboxPath, SandboxPathError } from './sandbox-paths.ts';
import { HttpError, sendJson } from './http-util.ts';

export async function readFileEndpoint(sandbox: LocalSandbox, url: URL, response: ServerResponse): Promise<void> {
  const path = url.searchParams.get('path');
  if (!path) throw new HttpError(400, 'path is required');
  const target = await toHostPath(sandbox, path);
  const info = await stat(target).catch(() => undefined);
  if (!info) throw new HttpError(404, `path '${sandboxPath(path)}' does not exist`);
  if (info.isDirectory()) throw new HttpError(400, `path '${sandboxPath(path)}' is a directory`);
  const content = await readFile(target);
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': content.length });
  response.end(content);
}

export async function writeFilesEndpoint(sandbox: LocalSandbox, url: URL, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const singlePath = url.searchParams.get('path');
  const written: { path: string; name: string; type: 'file' }[] = [];
  const seen = new Set<string>();
  const writes: Promise<void>[] = [];
  // Awaited only after the body is parsed: mark as handled now so a failure is not "unhandled".
  const track = (write: Promise<void>) => {
    write.catch(() => {});
    writes.push(write);
  };
  const parser = busboy({ headers: request.headers, preservePath: true, limits: { fieldSize: 0 } });

  parser.on('file', (_field, stream, info) => {
    let path: string;
    try {
      path = sandboxPath(singlePath ?? info.filename ?? '');
    } catch (error) {
      stream.resume();
      track(Promise.reject(new HttpError(400, (error as Error).message)));
      return;
    }
    if (seen.has(path)) {
      stream.resume();
      track(Promise.reject(new HttpError(400, `path '${path}' appears more than once in one request`)));
      return;
    }
    seen.add(path);
    written.push({ path, name: basename(path), type: 'file' });
    track(writeOne(sandbox, path, stream).then((bytes) => sandbox.stats.countWrite(path, bytes)));
  });
  const parsed = new Promise<void>((resolve, reject) => {
    parser.once('close', resolve);
    parser.once('error', (error) => reject(new HttpError(400, `malformed multipart body: ${(error as Error).message}`)));
  });
  request.pipe(parser);
  await parsed;
  await Promise.all(writes);
  if (written.length === 0) throw new HttpError(400, 'no file in the request');
  sendJson(response, 200, written);
}

/** Resolves to the bytes written. */
async function writeOne(sandbox: LocalSandbox, path: string, stream: NodeJS.ReadableStream): Promise<number> {
  try {
    const target = await toHostPath(sandbox, path);
    await mkdir(dirname(target), { recursive: true });
    const file = createWriteStream(target);
    await pipeline(stream, file);
    return file.bytesWritten;
  } catch (error) {
    (stream as NodeJS.ReadableStream & { resume(): void }).resume();
    throw error;
  }
}

export async function toHostPath(sandbox: LocalSandbox, path: string): Promise<string> {
  try {
    return await hostPath(sandbox.rootDir, path);
  } catch (error) {
    if (error instanceof SandboxPathError) throw new HttpError(400, error.message);
    throw error;
  }
}
