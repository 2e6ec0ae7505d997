/**
 * Checks a deployment's uploaded parts against its manifest before anything uses them: every part
 * present with its exact size, then every blob's SHA-256 computed while streaming the parts (a
 * blob spanning parts is hashed across them in order). Memory stays at a stream buffer and one
 * hash state per blob in progress. s3rver ignores S3 checksums and a part carries many blobs, so
 * the service hashes every byte itself.
 */
import { createHash, type Hash } from 'node:crypto';
import type { FieldProblem } from '../deployment-request.ts';
import type { BlobStore, UploadPart } from './blob-store.ts';
import type { ManifestFile } from './pending-upload.ts';

export interface VerifiedParts {
  problems: FieldProblem[];
  /** Parts whose bytes are wrong (to delete, so that a retry uploads them again). */
  badParts: number[];
  /** partNumber -> the ETag read, for promoting exactly what was verified. */
  etags: Map<number, string>;
}

const PARALLEL_RUNS = 4;

export async function verifyParts(
  blobs: Pick<BlobStore, 'headPart' | 'readPart'>,
  deploymentId: string,
  parts: readonly UploadPart[],
  files: readonly ManifestFile[],
): Promise<VerifiedParts> {
  const firstIndex = new Map<string, number>();
  files.forEach((file, index) => {
    if (!firstIndex.has(file.sha256)) firstIndex.set(file.sha256, index);
  });
  const describe = (sha256: string) => {
    const index = firstIndex.get(sha256)!;
    return { index, label: `manifest[${index}] (${files[index]!.path}, sha256 ${sha256.slice(0, 12)}…)` };
  };

  const missing = await missingParts(blobs, deploymentId, parts);
  if (missing.length > 0) {
    const problems = new Map<string, FieldProblem>();
    for (const { part, size } of missing) {
      for (const piece of part.pieces) {
        if (problems.has(piece.sha256)) continue;
        const { index, label } = describe(piece.sha256);
        const what = size === undefined ? `part ${part.partNumber} was not uploaded` : `part ${part.partNumber} has ${size} of its ${part.size} bytes`;
        problems.set(piece.sha256, { field: `manifest[${index}]`, rule: 'missing blob', message: `${label} is missing: ${what}` });
      }
    }
    return { problems: [...problems.values()], badParts: missing.filter((entry) => entry.size !== undefined).map((entry) => entry.part.partNumber), etags: new Map() };
  }

  const sizes = new Map(files.map((file) => [file.sha256, file.size]));
  const etags = new Map<number, string>();
  const digests = new Map<string, string>();
  const partsOfBlob = new Map<string, Set<number>>();
  const runs = runsOfParts(parts);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL_RUNS, runs.length) }, async () => {
      while (next < runs.length) {
        const run = runs[next++]!;
        const hashes = new Map<string, Hash>();
        for (const part of run) {
          const { body, etag } = await blobs.readPart(deploymentId, part.partNumber);
          etags.set(part.partNumber, etag);
          for (const piece of part.pieces) partsOfBlob.set(piece.sha256, (partsOfBlob.get(piece.sha256) ?? new Set()).add(part.partNumber));
          await hashPieces(body, part, sizes, hashes, digests);
        }
      }
    }),
  );
  const problems: FieldProblem[] = [];
  const badParts = new Set<number>();
  for (const [sha256, digest] of digests) {
    if (digest === sha256) continue;
    const { index, label } = describe(sha256);
    problems.push({ field: `manifest[${index}].sha256`, rule: 'hash mismatch', message: `${label}: the uploaded bytes hash to ${digest}` });
    for (const partNumber of partsOfBlob.get(sha256) ?? []) badParts.add(partNumber);
  }
  return { problems, badParts: [...badParts], etags };
}

async function missingParts(blobs: Pick<BlobStore, 'headPart'>, deploymentId: string, parts: readonly UploadPart[]) {
  const heads = await Promise.all(parts.map(async (part) => ({ part, size: (await blobs.headPart(deploymentId, part.partNumber)).size })));
  return heads.filter(({ part, size }) => size !== part.size);
}

/** Parts linked by a blob that continues from one into the next must be hashed in order. */
function runsOfParts(parts: readonly UploadPart[]): UploadPart[][] {
  const runs: UploadPart[][] = [];
  for (const part of parts) {
    const continues = part.pieces[0] !== undefined && part.pieces[0].offset > 0;
    if (continues && runs.length > 0) runs.at(-1)!.push(part);
    else runs.push([part]);
  }
  return runs;
}

async function hashPieces(
  body: AsyncIterable<Uint8Array>,
  part: UploadPart,
  sizes: ReadonlyMap<string, number>,
  hashes: Map<string, Hash>,
  digests: Map<string, string>,
): Promise<void> {
  let pieceIndex = 0;
  let usedOfPiece = 0;
  const finishPiece = () => {
    const piece = part.pieces[pieceIndex]!;
    const hash = hashes.get(piece.sha256);
    // The blob's last piece: its digest is complete.
    if (hash && piece.offset + piece.length === sizes.get(piece.sha256)) {
      digests.set(piece.sha256, hash.digest('hex'));
      hashes.delete(piece.sha256);
    }
    pieceIndex += 1;
    usedOfPiece = 0;
  };
  const hashOf = (sha256: string, offset: number) => {
    let hash = hashes.get(sha256);
    if (!hash && offset === 0) {
      hash = createHash('sha256');
      hashes.set(sha256, hash);
    }
    return hash;
  };
  for await (const chunk of body) {
    let position = 0;
    while (position < chunk.length && pieceIndex < part.pieces.length) {
      const piece = part.pieces[pieceIndex]!;
      const take = Math.min(piece.length - usedOfPiece, chunk.length - position);
      hashOf(piece.sha256, piece.offset)?.update(chunk.subarray(position, position + take));
      position += take;
      usedOfPiece += take;
      if (usedOfPiece === piece.length) finishPiece();
    }
  }
  while (pieceIndex < part.pieces.length && part.pieces[pieceIndex]!.length === 0) finishPiece();
}
