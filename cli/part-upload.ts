/**
 * Uploads a manifest deployment's parts: each part is the bytes of its pieces, read from the
 * files on disk, PUT to its presigned URL. A few parts at a time (memory: that many parts), a
 * failed part retried on its own with backoff; progress is reported in bytes as they are sent.
 */
import { open } from 'node:fs/promises';
import pRetry from 'p-retry';
import { CliError } from './errors.ts';
import type { FoundFile } from './project-reader.ts';

export interface PresignedPart {
  partNumber: number;
  size: number;
  url: string;
  pieces: { sha256: string; offset: number; length: number }[];
}

export interface UploadPartsOptions {
  concurrency?: number;
  retries?: number;
  /** Called with a signed byte count as bytes go out (negative when a failed attempt is undone). */
  onBytes?: (bytes: number) => void;
  /** Called before a retry. */
  onRetry?: (partNumber: number, error: Error) => void;
  minRetryDelayMs?: number;
}

const SLICE_BYTES = 256 * 1024;

export async function uploadParts(parts: readonly PresignedPart[], sources: ReadonlyMap<string, FoundFile>, options: UploadPartsOptions = {}): Promise<void> {
  const { concurrency = 4, retries = 4, onBytes = () => {}, onRetry = () => {} } = options;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, parts.length) }, async () => {
      while (next < parts.length) {
        const part = parts[next++]!;
        const body = await readPart(part, sources);
        await pRetry(() => putPart(part, body, onBytes), {
          retries,
          minTimeout: options.minRetryDelayMs ?? 300,
          maxTimeout: 5_000,
          onFailedAttempt: ({ error, retriesLeft }) => {
            if (retriesLeft > 0) onRetry(part.partNumber, error);
          },
        });
      }
    }),
  );
}

async function readPart(part: PresignedPart, sources: ReadonlyMap<string, FoundFile>): Promise<Buffer> {
  const body = Buffer.alloc(part.size);
  let position = 0;
  for (const piece of part.pieces) {
    const source = sources.get(piece.sha256);
    if (!source) throw new CliError(`the API asked for a blob this project does not have (sha256 ${piece.sha256})`);
    const file = await open(source.absolutePath, 'r');
    try {
      const { bytesRead } = await file.read(body, position, piece.length, piece.offset);
      if (bytesRead !== piece.length) throw new CliError(`${source.path} changed while deploying (it is shorter than when it was hashed)`);
    } finally {
      await file.close();
    }
    position += piece.length;
  }
  return body;
}

async function putPart(part: PresignedPart, body: Buffer, onBytes: (bytes: number) => void): Promise<void> {
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= body.length) return controller.close();
      const slice = body.subarray(sent, sent + SLICE_BYTES);
      sent += slice.length;
      onBytes(slice.length);
      controller.enqueue(slice);
    },
  });
  try {
    const response = await fetch(part.url, {
      method: 'PUT',
      body: stream,
      headers: { 'content-length': String(body.length), 'content-type': 'application/octet-stream' },
      duplex: 'half',
      signal: AbortSignal.timeout(120_000),
    } as RequestInit);
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`part ${part.partNumber}: S3 answered ${response.status}`);
  } catch (error) {
    onBytes(-sent);
    throw error;
  }
}
