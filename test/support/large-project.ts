/**
 * A large static project generated at test time (nothing big is committed): a 20 MiB binary,
 * several large images, about a thousand small pages and an executable script, under index.html
 * so the build plan serves it with the product's static server.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

const MiB = 1024 * 1024;

export interface GeneratedProject {
  root: string;
  /** path -> sha256 of every file. */
  files: Map<string, string>;
  totalBytes: number;
}

export interface ProjectShape {
  binaryBytes?: number;
  images?: number;
  imageBytes?: number;
  smallFiles?: number;
  smallFileBytes?: number;
}

export async function generateLargeProject(root: string, shape: ProjectShape = {}): Promise<GeneratedProject> {
  const { binaryBytes = 20 * MiB, images = 4, imageBytes = 3 * MiB, smallFiles = 1_000, smallFileBytes = 8 * 1024 } = shape;
  const files = new Map<string, string>();
  let totalBytes = 0;
  const put = async (path: string, content: Buffer | string, mode?: number) => {
    const bytes = Buffer.from(content);
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), bytes);
    if (mode !== undefined) await chmod(join(root, path), mode);
    files.set(path, sha256(bytes));
    totalBytes += bytes.length;
  };
  await put('index.html', '<!doctype html><title>large</title><h1>A large project</h1>\n');
  if (binaryBytes > 0) await put('assets/data.bin', randomBytes(binaryBytes));
  for (let index = 1; index <= images; index++) await put(`img/photo-${index}.jpg`, randomBytes(imageBytes));
  for (let index = 0; index < smallFiles; index++) {
    const section = `section-${String(index % 25).padStart(2, '0')}`;
    // Text of varying size around smallFileBytes.
    const size = Math.round(smallFileBytes * (0.5 + (index % 10) / 10));
    await put(`pages/${section}/page-${index}.html`, `<p>${index}</p>${randomBytes(Math.ceil(size / 2)).toString('hex').slice(0, size)}\n`);
  }
  await put('bin/tool.sh', '#!/bin/sh\necho tool\n', 0o755);
  return { root, files, totalBytes };
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}
