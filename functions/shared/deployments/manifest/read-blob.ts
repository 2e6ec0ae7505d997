/** A held blob's bytes in memory: only for the few small files the build plan reads. */
import type { BlobStore, StoredBlob } from './blob-store.ts';

export async function readBlob(blobs: Pick<BlobStore, 'readSegment'>, blob: StoredBlob): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for (const segment of blob.segments) for await (const chunk of blobs.readSegment(segment)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** A blob's bytes as a stream: its segments one after the other. */
export async function* streamBlob(blobs: Pick<BlobStore, 'readSegment'>, blob: StoredBlob): AsyncGenerator<Uint8Array> {
  for (const segment of blob.segments) yield* blobs.readSegment(segment);
}
