/** How the blobs a deployment lacks are cut into presigned parts, and where each blob lands. */
import { describe, expect, it } from 'vitest';
import { blobsInParts, planUploadParts } from '../../../../functions/shared/deployments/manifest/upload-parts.ts';

const sha = (letter: string) => letter.repeat(64);

describe('planUploadParts', () => {
  it('puts many small blobs into one part', () => {
    // Prepare
    const blobs = Array.from({ length: 100 }, (_, index) => ({ sha256: sha(String(index % 10)) + index, size: 1_000 }));

    // Act
    const parts = planUploadParts(blobs, 1_000_000);

    // Assert
    expect(parts).toHaveLength(1);
    expect(parts[0]!.size).toBe(100_000);
    expect(parts[0]!.pieces).toHaveLength(100);
  });

  it('spreads a large blob over parts of the part size, the last one shorter', () => {
    // Prepare
    const blobs = [{ sha256: sha('a'), size: 2_500 }];

    // Act
    const parts = planUploadParts(blobs, 1_000);

    // Assert
    expect(parts.map((part) => part.pieces)).toEqual([
      [{ sha256: sha('a'), offset: 0, length: 1_000 }],
      [{ sha256: sha('a'), offset: 1_000, length: 1_000 }],
      [{ sha256: sha('a'), offset: 2_000, length: 500 }],
    ]);
  });

  it('fills a part across blob boundaries', () => {
    // Prepare
    const blobs = [
      { sha256: sha('a'), size: 600 },
      { sha256: sha('b'), size: 600 },
    ];

    // Act
    const parts = planUploadParts(blobs, 1_000);

    // Assert
    expect(parts.map((part) => [part.size, part.pieces.map((piece) => [piece.sha256[0], piece.offset, piece.length])])).toEqual([
      [1_000, [['a', 0, 600], ['b', 0, 400]]],
      [200, [['b', 400, 200]]],
    ]);
  });

  it('plans nothing when nothing is needed', () => {
    // Prepare: no blobs

    // Act
    const parts = planUploadParts([], 1_000);

    // Assert
    expect(parts).toEqual([]);
  });
});

describe('blobsInParts', () => {
  it('locates each blob as ranges of the chunks its parts became', () => {
    // Prepare
    const parts = planUploadParts([{ sha256: sha('a'), size: 600 }, { sha256: sha('b'), size: 600 }], 1_000);
    const chunks = new Map([[1, 'chunk-1'], [2, 'chunk-2']]);

    // Act
    const located = blobsInParts(parts, chunks);

    // Assert
    expect(located.get(sha('a'))).toEqual({ size: 600, segments: [{ key: 'chunk-1', offset: 0, length: 600 }] });
    expect(located.get(sha('b'))).toEqual({
      size: 600,
      segments: [
        { key: 'chunk-1', offset: 600, length: 400 },
        { key: 'chunk-2', offset: 0, length: 200 },
      ],
    });
  });
});
