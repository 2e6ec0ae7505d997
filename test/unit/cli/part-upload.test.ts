/** The CLI's part upload: each part the bytes of its pieces, a failed part retried on its own, progress in bytes. */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uploadParts, type PresignedPart } from '../../../cli/part-upload.ts';
import type { FoundFile } from '../../../cli/project-reader.ts';

let workDir: string;
let server: Server;
let baseUrl: string;
/** What each PUT received, by path; the first PUT of a path in `failOnce` answers 503. */
let received: Map<string, Buffer[]>;
let failOnce: Set<string>;

beforeEach(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'part-upload-'));
  received = new Map();
  failOnce = new Set();
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url!;
      received.set(path, [...(received.get(path) ?? []), Buffer.concat(chunks)]);
      const fail = failOnce.delete(path);
      response.writeHead(fail ? 503 : 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(workDir, { recursive: true, force: true });
});

async function file(path: string, content: string): Promise<[string, FoundFile]> {
  const absolutePath = join(workDir, path);
  await writeFile(absolutePath, content);
  return [createHash('sha256').update(content).digest('hex'), { path, absolutePath, size: Buffer.byteLength(content) }];
}

describe('uploading parts', () => {
  it('puts each part as the bytes of its pieces, in order', async () => {
    // Prepare
    const [a, b] = [await file('a.txt', 'hello '), await file('b.txt', 'world')];
    const sources = new Map([a, b]);
    const part: PresignedPart = { partNumber: 1, size: 11, url: `${baseUrl}/part-1`, pieces: [{ sha256: a[0], offset: 0, length: 6 }, { sha256: b[0], offset: 0, length: 5 }] };

    // Act
    await uploadParts([part], sources);

    // Assert
    expect(received.get('/part-1')?.map(String)).toEqual(['hello world']);
  });

  it('retries a part that failed, on its own, and counts its bytes once in the end', async () => {
    // Prepare
    const [a, b] = [await file('a.txt', 'first part'), await file('b.txt', 'second part')];
    const sources = new Map([a, b]);
    const parts: PresignedPart[] = [
      { partNumber: 1, size: 10, url: `${baseUrl}/part-1`, pieces: [{ sha256: a[0], offset: 0, length: 10 }] },
      { partNumber: 2, size: 11, url: `${baseUrl}/part-2`, pieces: [{ sha256: b[0], offset: 0, length: 11 }] },
    ];
    failOnce.add('/part-2');
    const retried: number[] = [];
    let bytes = 0;

    // Act
    await uploadParts(parts, sources, { minRetryDelayMs: 1, onRetry: (partNumber) => retried.push(partNumber), onBytes: (count) => (bytes += count) });

    // Assert
    expect(retried).toEqual([2]);
    expect(received.get('/part-1')?.map(String)).toEqual(['first part']);
    expect(received.get('/part-2')?.map(String)).toEqual(['second part', 'second part']);
    expect(bytes).toBe(21);
  });

  it('gives up after its retries with the status S3 answered', async () => {
    // Prepare
    const a = await file('a.txt', 'never lands');
    const part: PresignedPart = { partNumber: 7, size: 11, url: `${baseUrl}/part-7`, pieces: [{ sha256: a[0], offset: 0, length: 11 }] };
    server.removeAllListeners('request');
    server.on('request', (_request, response) => response.writeHead(500).end());

    // Act
    const attempt = uploadParts([part], new Map([a]), { retries: 2, minRetryDelayMs: 1 });

    // Assert
    await expect(attempt).rejects.toThrow('part 7: S3 answered 500');
  });
});
