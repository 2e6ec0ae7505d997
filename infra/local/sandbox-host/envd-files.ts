/**
 * The sandbox daemon's plain-HTTP file endpoints: `GET /files` reads one file as raw bytes;
 * `POST /files` writes one file (`?path=`) or many in one multipart request (each part's
 * filename is its target path), creating parent directories.
 */
import busboy from 'busboy';
import { basename } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalSandbox } from './local-sandbox.ts';
import { SandboxFileError, type SandboxFileErrorCode } from './sandbox-files.ts';
import { sandboxPath } from './sandbox-paths.ts';
import { HttpError, sendJson } from './http-util.ts';

/** The daemon's HTTP statuses, which the SDK maps (507 is NotEnoughSpaceError). */
const HTTP_STATUS_BY_FILE_ERROR: Record<SandboxFileErrorCode, number> = {
  not_found: 404,
  already_exists: 400,
  not_a_directory: 400,
  is_a_directory: 400,
  permission_denied: 400,
  no_space: 507,
  invalid: 400,
};

export async function readFileEndpoint(sandbox: LocalSandbox, url: URL, response: ServerResponse): Promise<void> {
  const path = url.searchParams.get('path');
  if (!path) throw new HttpError(400, 'path is required');
  const { size, content } = await asHttpError(() => sandbox.runtime.files.read(checkedPath(path)));
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
  await pipeline(content, response).catch(() => response.destroy());
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
    track(writeOne(sandbox, path, stream as Readable).then((bytes) => sandbox.stats.countWrite(path, bytes)));
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

/** Resolves to the bytes written (counted on the way: the agent writes them as the sandbox's uid). */
async function writeOne(sandbox: LocalSandbox, path: string, stream: Readable): Promise<number> {
  let bytes = 0;
  // A pass-through counter: a 'data' listener on the part itself would start it flowing before the writer reads.
  const counted = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  stream.once('error', (error) => counted.destroy(error));
  stream.pipe(counted);
  try {
    await asHttpError(() => sandbox.runtime.files.write(path, counted));
    return bytes;
  } catch (error) {
    stream.resume();
    throw error;
  }
}

function checkedPath(path: string): string {
  try {
    return sandboxPath(path);
  } catch (error) {
    throw new HttpError(400, (error as Error).message);
  }
}

async function asHttpError<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof SandboxFileError) throw new HttpError(HTTP_STATUS_BY_FILE_ERROR[error.code], error.message);
    throw error;
  }
}
