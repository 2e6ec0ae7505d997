/**
 * How the blobs a deployment still needs travel: their bytes, concatenated in manifest order, cut
 * into parts of `partBytes`. Small files share a part (a thousand 10 KB files are two PUTs, not a
 * thousand); a large file spans several, each retried on its own.
 */
import type { StoredBlob, UploadPart } from './blob-store.ts';

export interface NeededBlob {
  sha256: string;
  size: number;
}

export function planUploadParts(blobs: readonly NeededBlob[], partBytes: number): UploadPart[] {
  const parts: UploadPart[] = [];
  let current: UploadPart | undefined;
  for (const blob of blobs) {
    let offset = 0;
    while (offset < blob.size) {
      if (!current || current.size >= partBytes) {
        current = { partNumber: parts.length + 1, size: 0, pieces: [] };
        parts.push(current);
      }
      const length = Math.min(blob.size - offset, partBytes - current.size);
      current.pieces.push({ sha256: blob.sha256, offset, length });
      current.size += length;
      offset += length;
    }
  }
  return parts;
}

/** Where each uploaded blob's bytes are once every part is a chunk (`chunkKeys[partNumber]`). */
export function blobsInParts(parts: readonly UploadPart[], chunkKeys: ReadonlyMap<number, string>): Map<string, StoredBlob> {
  const blobs = new Map<string, StoredBlob>();
  for (const part of parts) {
    let offsetInPart = 0;
    for (const piece of part.pieces) {
      const blob = blobs.get(piece.sha256) ?? { size: 0, segments: [] };
      blob.segments.push({ key: chunkKeys.get(part.partNumber)!, offset: offsetInPart, length: piece.length });
      blob.size += piece.length;
      blobs.set(piece.sha256, blob);
      offsetInPart += piece.length;
    }
  }
  return blobs;
}
