/**
 * planBatches: groups a project's files, in order, into upload batches bounded by bytes and by
 * file count; a file larger than a batch goes alone.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_PLAN, planBatches, type SizedFile } from '../../../functions/shared/deployments/batches.ts';

/** Files named f0, f1, ... with the given sizes. */
function filesOfSizes(...sizes: number[]): SizedFile[] {
  return sizes.map((size, index) => ({ path: `f${index}`, size }));
}

describe('planBatches', () => {
  it('starts a new batch when the next file would exceed the batch bytes', () => {
    // Prepare
    const files = filesOfSizes(40, 40, 40, 40, 40);

    // Act
    const batches = planBatches(files, { maxBatchBytes: 100, maxBatchFiles: 10 });

    // Assert
    expect(batches).toEqual([[0, 1], [2, 3], [4]]);
  });

  it('fills a batch up to exactly the batch bytes', () => {
    // Prepare
    const files = filesOfSizes(50, 50, 1);

    // Act
    const batches = planBatches(files, { maxBatchBytes: 100, maxBatchFiles: 10 });

    // Assert
    expect(batches).toEqual([[0, 1], [2]]);
  });

  it('starts a new batch when the batch holds the most files allowed, however small they are', () => {
    // Prepare
    const files = filesOfSizes(1, 1, 1, 1, 1, 1, 1);

    // Act
    const batches = planBatches(files, { maxBatchBytes: 1_000, maxBatchFiles: 3 });

    // Assert
    expect(batches).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
  });

  it('gives a file larger than the batch bytes a batch of its own', () => {
    // Prepare
    const files = filesOfSizes(10, 500, 10);

    // Act
    const batches = planBatches(files, { maxBatchBytes: 100, maxBatchFiles: 10 });

    // Assert
    expect(batches).toEqual([[0], [1], [2]]);
  });

  it('gives an oversized first file a batch of its own too', () => {
    // Prepare
    const files = filesOfSizes(500, 10, 10);

    // Act
    const batches = planBatches(files, { maxBatchBytes: 100, maxBatchFiles: 10 });

    // Assert
    expect(batches).toEqual([[0], [1, 2]]);
  });

  it('keeps the files in their given order: concatenated batches list every index once, ascending', () => {
    // Prepare: a mix of sizes that forces several batch boundaries
    const files = filesOfSizes(...Array.from({ length: 200 }, (_, index) => ((index * 37) % 97) * 13));

    // Act
    const batches = planBatches(files, { maxBatchBytes: 2_000, maxBatchFiles: 7 });

    // Assert
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flat()).toEqual(files.map((_, index) => index));
  });

  it('plans no batch for no files', () => {
    // Prepare
    const files: SizedFile[] = [];

    // Act
    const batches = planBatches(files);

    // Assert
    expect(batches).toEqual([]);
  });

  it('puts a small project in one batch with the default plan', () => {
    // Prepare
    const files = filesOfSizes(1_000, 2_000, 3_000);

    // Act
    const batches = planBatches(files);

    // Assert
    expect(DEFAULT_BATCH_PLAN).toEqual({ maxBatchBytes: 1024 * 1024, maxBatchFiles: 500 });
    expect(batches).toEqual([[0, 1, 2]]);
  });

  it('counts empty files against the file limit only', () => {
    // Prepare
    const files = filesOfSizes(0, 0, 0, 0);

    // Act
    const batches = planBatches(files, { maxBatchBytes: 1, maxBatchFiles: 2 });

    // Assert
    expect(batches).toEqual([[0, 1], [2, 3]]);
  });
});
