/**
 * Saga step 2 for a manifest deployment (one Map iteration): one batch of files goes into the
 * sandbox as a tar archive streamed from the owner's chunks (ONE write request), unpacked there by
 * ONE command. The archive carries the modes, and unpacking a thousand small files is the
 * sandbox's native tar, not a thousand writes through the daemon. Consecutive ranges of a chunk
 * are read with one ranged GET; memory stays at stream buffers whatever the file sizes.
 */
import { APP_DIR } from '../app-layout.ts';
import { DeploymentStateError, UploadIncompleteError } from '../errors.ts';
import { loadDeployment } from '../load-deployment.ts';
import { shellQuote } from '../../shell-quote.ts';
import { APP_FILES_PATH } from './app-files.ts';
import type { BlobSegment, BlobStore } from './blob-store.ts';
import type { UsesManifest } from './manifest-dependencies.ts';
import type { BlobBatch } from './pending-upload.ts';
import { tarSize, tarStream, type TarEntry } from './tar-stream.ts';

const HOME = '/home/user';
const INCOMING_DIR = `${HOME}/.coderunner/incoming`;
// Within the upload step's Lambda timeout (110 s).
const UNPACK_TIMEOUT_MS = 90_000;

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
  const entries: TarEntry[] = batch.files.map((file, index) => ({
    path: homeRelative(`${APP_DIR}/${file.path}`),
    size: file.size,
    mode: file.mode,
    // The archive reads the files in order; a retried request starts again from the first.
    async *open() {
      if (index === 0) await reader.restart();
      yield* reader.take(file.size);
    },
  }));
  if (batch.appFilesKey) {
    const record = Buffer.from(await documents.getText(batch.appFilesKey));
    entries.push({
      path: homeRelative(APP_FILES_PATH),
      size: record.length,
      mode: 0o644,
      async *open() {
        yield record;
      },
    });
  }
  const archive = `${INCOMING_DIR}/${input.deploymentId}-${input.batch.index}.tar`;
  const mtime = Math.floor(Date.now() / 1000);
  const sandbox = await sandboxes.connect(deployment.sandboxId);
  await sandbox.writeFileStreams([{ path: archive, size: tarSize(entries), open: () => tarStream(entries, mtime) }]);
  const unpack = `tar -xmf ${shellQuote(archive)} -C ${HOME} --no-same-owner; status=$?; rm -f ${shellQuote(archive)}; exit $status`;
  const result = await sandbox.run(unpack, { timeoutMs: UNPACK_TIMEOUT_MS });
  if (result.exitCode !== 0) throw new UploadIncompleteError(`unpacking batch ${input.batch.index} failed: ${(result.stderr || result.stdout).trim().slice(0, 500)}`);
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

/** Archive members are relative to the home directory: the app's files and our record beside it. */
function homeRelative(path: string): string {
  return path.slice(HOME.length + 1);
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
