/**
 * Saga step 2 for a manifest deployment (one Map iteration): streams one batch of files from the
 * owner's chunks into the sandbox in ONE request, then sets the modes that are not the default.
 * Consecutive ranges of a chunk are read with one ranged GET; memory stays at stream buffers.
 */
import { APP_DIR } from '../app-layout.ts';
import { DeploymentStateError, UploadIncompleteError } from '../errors.ts';
import { loadDeployment } from '../steps/load-deployment.ts';
import type { StreamToWrite } from '../../sandbox/sandbox-provider.ts';
import { APP_FILES_PATH } from './app-files.ts';
import type { BlobSegment, BlobStore } from './blob-store.ts';
import type { UsesManifest } from './manifest-dependencies.ts';
import { DEFAULT_FILE_MODE } from './manifest-request.ts';
import type { BlobBatch } from './pending-upload.ts';
import { chmodCommand } from './prepare-app-dir.ts';

export interface UploadBlobBatchInput {
  deploymentId: string;
  batch: { index: number; key: string };
}

export async function uploadBlobBatch(dependencies: UsesManifest<'deployments' | 'sandboxes'>, input: UploadBlobBatchInput): Promise<{ index: number; files: number }> {
  const { deployments, sandboxes, blobs, documents } = dependencies;
  const deployment = await loadDeployment(deployments, input.deploymentId);
  if (deployment.status !== 'UPLOADING' || !deployment.sandboxId) {
    throw new DeploymentStateError(input.deploymentId, deployment.status, 'UPLOADING');
  }
  const batch = JSON.parse(await documents.getText(input.batch.key)) as BlobBatch;
  const reader = new SegmentReader(blobs, batch.files.flatMap((file) => file.segments));
  const streams: StreamToWrite[] = batch.files.map((file, index) => ({
    path: `${APP_DIR}/${file.path}`,
    size: file.size,
    // The request body reads the files in order; a retried request starts again from the first.
    async *open() {
      if (index === 0) await reader.restart();
      yield* reader.take(file.size);
    },
  }));
  if (batch.appFilesKey) {
    const record = Buffer.from(await documents.getText(batch.appFilesKey));
    streams.push({
      path: APP_FILES_PATH,
      size: record.length,
      async *open() {
        yield record;
      },
    });
  }
  const sandbox = await sandboxes.connect(deployment.sandboxId);
  await sandbox.writeFileStreams(streams);
  const chmod = chmodCommand(batch.files, DEFAULT_FILE_MODE);
  if (chmod) {
    const result = await sandbox.run(chmod, { timeoutMs: 60_000 });
    if (result.exitCode !== 0) throw new UploadIncompleteError(`setting file modes failed: ${result.stderr.trim().slice(0, 300)}`);
  }
  await deployments.recordBatch(input.deploymentId, input.batch.index, batch.files.length);
  return { index: input.batch.index, files: batch.files.length };
}

/** The batch's segments as one byte sequence, each run of adjacent ranges of a chunk read with one GET. */
class SegmentReader {
  readonly #blobs: Pick<BlobStore, 'readSegment'>;
  readonly #runs: BlobSegment[];
  #run = 0;
  #current: AsyncIterator<Uint8Array> | undefined;
  #leftover: Uint8Array = new Uint8Array();

  constructor(blobs: Pick<BlobStore, 'readSegment'>, segments: readonly BlobSegment[]) {
    this.#blobs = blobs;
    this.#runs = coalesce(segments);
  }

  async restart(): Promise<void> {
    await this.#current?.return?.();
    this.#run = 0;
    this.#current = undefined;
    this.#leftover = new Uint8Array();
  }

  async *take(bytes: number): AsyncGenerator<Uint8Array> {
    let remaining = bytes;
    while (remaining > 0) {
      if (this.#leftover.length === 0) {
        const next = await this.#next();
        if (!next) throw new UploadIncompleteError(`a stored chunk ended ${remaining} bytes early`);
        this.#leftover = next;
      }
      const piece = this.#leftover.subarray(0, remaining);
      this.#leftover = this.#leftover.subarray(piece.length);
      remaining -= piece.length;
      yield piece;
    }
  }

  async #next(): Promise<Uint8Array | undefined> {
    while (this.#run < this.#runs.length) {
      this.#current ??= this.#blobs.readSegment(this.#runs[this.#run]!)[Symbol.asyncIterator]();
      const result = await this.#current.next();
      if (!result.done) return result.value;
      this.#current = undefined;
      this.#run += 1;
    }
    return undefined;
  }
}

function coalesce(segments: readonly BlobSegment[]): BlobSegment[] {
  const runs: BlobSegment[] = [];
  for (const segment of segments) {
    if (segment.length === 0) continue;
    const last = runs.at(-1);
    if (last && last.key === segment.key && last.offset + last.length === segment.offset) last.length += segment.length;
    else runs.push({ ...segment });
  }
  return runs;
}
