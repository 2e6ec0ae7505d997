/**
 * Splits a project's files into upload batches by size, so each batch is one reasonably sized
 * request to the sandbox whatever the mix of small and large files.
 */
export interface SizedFile {
  path: string;
  size: number;
}

export interface BatchPlanOptions {
  /** Target upper bound for the bytes in one batch; a single larger file gets a batch of its own. */
  maxBatchBytes: number;
  /** Upper bound for the files in one batch (multipart parts per request). */
  maxBatchFiles: number;
}

export const DEFAULT_BATCH_PLAN: BatchPlanOptions = { maxBatchBytes: 1024 * 1024, maxBatchFiles: 500 };

/** Groups files in their given order; returns the groups as lists of indexes into `files`. */
export function planBatches(files: readonly SizedFile[], options: BatchPlanOptions = DEFAULT_BATCH_PLAN): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let currentBytes = 0;
  files.forEach((file, index) => {
    const full = current.length >= options.maxBatchFiles || (current.length > 0 && currentBytes + file.size > options.maxBatchBytes);
    if (full) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push(index);
    currentBytes += file.size;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}
