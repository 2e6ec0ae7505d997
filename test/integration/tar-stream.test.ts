/** The streamed tar archive, unpacked by the system's own tar (as in a sandbox). */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tarSize, tarStream, type TarEntry } from '../../functions/shared/deployments/manifest/tar-stream.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tar-stream-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function entry(path: string, content: Buffer, mode = 0o644): TarEntry {
  return {
    path,
    size: content.length,
    mode,
    async *open() {
      for (let offset = 0; offset < content.length; offset += 1000) yield content.subarray(offset, offset + 1000);
    },
  };
}

async function unpacked(entries: TarEntry[]): Promise<{ size: number; out: string }> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of tarStream(entries, 1_700_000_000)) chunks.push(chunk);
  const archive = join(dir, 'archive.tar');
  await writeFile(archive, Buffer.concat(chunks));
  const out = join(dir, 'out');
  execFileSync('mkdir', ['-p', out]);
  execFileSync('tar', ['-xmf', archive, '-C', out, '--no-same-owner']);
  return { size: Buffer.concat(chunks).length, out };
}

const sha = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe('tarStream', () => {
  it('unpacks every file byte for byte, with its mode, at exactly the announced size', async () => {
    // Prepare
    const files = {
      'index.html': Buffer.from('<h1>hi</h1>'),
      'empty.txt': Buffer.alloc(0),
      'exactly-one-block.bin': Buffer.alloc(512, 7),
      [`deep/${'d'.repeat(90)}/${'e'.repeat(90)}/file.txt`]: Buffer.from('long path'),
      'ünïcode/naïve café.txt': Buffer.from('utf-8 path'),
      [`${'x'.repeat(200)}.txt`]: Buffer.from('a 204-byte name with no slash'),
    };
    const entries = [...Object.entries(files).map(([path, content]) => entry(path, content)), entry('bin/run.sh', Buffer.from('#!/bin/sh\n'), 0o755)];

    // Act
    const { size, out } = await unpacked(entries);

    // Assert
    expect(size).toBe(tarSize(entries));
    for (const [path, content] of Object.entries(files)) expect(sha(await readFile(join(out, path)))).toBe(sha(content));
    expect((await stat(join(out, 'bin/run.sh'))).mode & 0o777).toBe(0o755);
  });

  it('fails when a source gives fewer bytes than its entry declares', async () => {
    // Prepare
    const short = { ...entry('short.bin', Buffer.alloc(10)), size: 20 };

    // Act
    const reading = (async () => {
      for await (const _chunk of tarStream([short], 0)) void _chunk;
    })();

    // Assert
    await expect(reading).rejects.toThrow(/10 of the 20 bytes/);
  });
});
