/**
 * `POST /deployments/{id}/complete`: checks the uploads against the manifest (every part there,
 * every blob's SHA-256), stores the verified parts as the owner's chunks, works out what goes into
 * the sandbox (a redeploy into a live one: only new or changed files, and what to remove), stages
 * those writes as byte-sized batches and starts the saga. A refused completion starts nothing:
 * the deployment keeps waiting (a corrected upload may complete it) until its deadline.
 */
import type { Deployment } from '../deployment.ts';
import { planBatches, type BatchPlanOptions } from '../batches.ts';
import { DeploymentNotFoundError, DeploymentStateError, SandboxNotReusableError } from '../errors.ts';
import type { StagedBatchRef } from '../ports.ts';
import { findReusableDeployment } from '../steps/find-reusable-deployment.ts';
import { loadDeployment } from '../steps/load-deployment.ts';
import { APP_FILES_PATH, parseAppFiles, serializeAppFiles, syncFiles, type AppFiles } from './app-files.ts';
import type { StoredBlob } from './blob-store.ts';
import type { UsesManifest } from './manifest-dependencies.ts';
import { UploadRefusedError } from './manifest-errors.ts';
import {
  APP_FILES_DOCUMENT,
  EMPTY_SHA256,
  PENDING_UPLOAD_DOCUMENT,
  SYNC_DOCUMENT,
  type BlobBatch,
  type ManifestFile,
  type PendingUpload,
  type SyncPlan,
} from './pending-upload.ts';
import { blobsInParts } from './upload-parts.ts';
import { verifyParts } from './verify-parts.ts';

/** Writes stream, so a batch is bounded by request time, not memory. */
export const DEFAULT_BLOB_BATCH_PLAN: BatchPlanOptions = { maxBatchBytes: 16 * 1024 * 1024, maxBatchFiles: 2_000 };

export interface CompleteUploadInput {
  userId: string;
  deploymentId: string;
  batchPlan?: BatchPlanOptions;
}

export async function completeUpload(
  dependencies: UsesManifest<'deployments' | 'staging' | 'sandboxes' | 'workflows'>,
  input: CompleteUploadInput,
): Promise<Deployment> {
  const { deployments, staging, workflows, blobs, documents } = dependencies;
  const { deploymentId, userId } = input;
  const deployment = await loadDeployment(deployments, deploymentId);
  if (deployment.userId !== userId) throw new DeploymentNotFoundError(deploymentId);
  if (deployment.status !== 'AWAITING_UPLOAD') throw new DeploymentStateError(deploymentId, deployment.status, 'AWAITING_UPLOAD');
  const pending = await documents.get<PendingUpload>(deploymentId, PENDING_UPLOAD_DOCUMENT);

  const verified = await verifyParts(blobs, deploymentId, pending.parts, pending.files);
  if (verified.problems.length > 0) {
    await Promise.all(verified.badParts.map((partNumber) => blobs.deletePart(deploymentId, partNumber)));
    throw new UploadRefusedError(verified.problems);
  }
  const chunkKeys = new Map<number, string>();
  for (const part of pending.parts) {
    chunkKeys.set(part.partNumber, await blobs.promotePart(userId, deploymentId, part.partNumber, verified.etags.get(part.partNumber) ?? ''));
  }
  const uploaded = blobsInParts(pending.parts, chunkKeys);
  await blobs.recordBlobs(userId, uploaded);
  const located = new Map<string, StoredBlob>([...pending.held, ...uploaded, [EMPTY_SHA256, { size: 0, segments: [] }]]);

  const previous = await findReusableDeployment(dependencies, userId, { projectId: deployment.projectId, ...pending.redeploy });
  const current = previous?.sandboxId ? await appFilesOf(dependencies, previous.sandboxId) : undefined;
  const sync = syncFiles(pending.files, current);
  const batches = await stageWrites(dependencies, deploymentId, pending.files, sync.write, located, input.batchPlan ?? DEFAULT_BLOB_BATCH_PLAN);
  const syncPlan: SyncPlan = { incremental: current !== undefined, remove: sync.remove };
  await documents.put(deploymentId, SYNC_DOCUMENT, syncPlan);

  await deployments.transitionFrom(deploymentId, deployment, 'PENDING', {
    filesTotal: sync.write.length,
    batchesTotal: batches.length,
    upload: {
      ...deployment.upload!,
      filesToWrite: sync.write.length,
      bytesToWrite: sync.write.reduce((sum, file) => sum + file.size, 0),
      filesUnchanged: sync.unchanged,
      filesRemoved: sync.remove.length,
      incremental: syncPlan.incremental,
    },
    ...(previous
      ? {
          sandboxId: previous.sandboxId,
          expiresAt: previous.expiresAt,
          reusedFrom: { deploymentId: previous.deploymentId, ...(previous.appPid ? { appPid: previous.appPid } : {}) },
        }
      : {}),
  }).then((moved) => {
    if (!moved) throw new DeploymentStateError(deploymentId, deployment.status, 'AWAITING_UPLOAD (it changed meanwhile)');
  });

  let handedOver = false;
  try {
    if (previous) {
      // As for inline contents: the sandbox changes hands in one conditional write, once our record names it.
      handedOver = (await deployments.transitionFrom(previous.deploymentId, previous, 'TERMINATED', { replacedBy: deploymentId })) !== undefined;
      if (!handedOver) throw new SandboxNotReusableError(`sandbox ${previous.sandboxId} changed while redeploying; try again`, 409);
    }
    const executionArn = await workflows.start({ deploymentId, batches });
    return await deployments.update(deploymentId, { executionArn });
  } catch (error) {
    const failure = { step: 'submit' as const, name: (error as Error).name ?? 'Error', message: (error as Error).message };
    await deployments.transition(deploymentId, 'FAILED', { error: failure }).catch(() => undefined);
    if (handedOver && previous?.sandboxId) await dependencies.sandboxes.kill(previous.sandboxId).catch(() => undefined);
    await staging.deleteAll(deploymentId).catch(() => undefined);
    throw error;
  }
}

/** The sandbox's record of the files a manifest deployment wrote; undefined when it has none. */
async function appFilesOf(dependencies: UsesManifest<'sandboxes'>, sandboxId: string): Promise<AppFiles | undefined> {
  const sandbox = await dependencies.sandboxes.connect(sandboxId);
  try {
    return parseAppFiles(new TextDecoder().decode(await sandbox.readFile(APP_FILES_PATH)));
  } catch (error) {
    if ((error as Error).name === 'SandboxNotFoundError' || (error as Error).name === 'SandboxInvalidRequestError') return undefined;
    throw error;
  }
}

/**
 * The write batches, files ordered by where their bytes are, so that a batch reads each chunk's
 * ranges in sequence. The first batch (there is always one) also writes the sandbox's record.
 */
async function stageWrites(
  dependencies: UsesManifest<never>,
  deploymentId: string,
  manifest: readonly ManifestFile[],
  write: readonly ManifestFile[],
  located: ReadonlyMap<string, StoredBlob>,
  batchPlan: BatchPlanOptions,
): Promise<StagedBatchRef[]> {
  const { documents } = dependencies;
  const files = write
    .map((file) => ({ ...file, segments: located.get(file.sha256)!.segments }))
    .sort((a, b) => compareSegments(a.segments[0], b.segments[0]));
  const appFilesKey = await documents.putText(deploymentId, APP_FILES_DOCUMENT, serializeAppFiles(manifest));
  const groups = files.length > 0 ? planBatches(files, batchPlan) : [[]];
  const refs: StagedBatchRef[] = [];
  for (const [index, members] of groups.entries()) {
    const batch: BlobBatch = { files: members.map((member) => files[member]!), ...(index === 0 ? { appFilesKey } : {}) };
    const key = await documents.put(deploymentId, `writes/batch-${String(index).padStart(5, '0')}.json`, batch);
    refs.push({ index, key, files: batch.files.length, bytes: batch.files.reduce((sum, file) => sum + file.size, 0), source: 'blobs' });
  }
  return refs;
}

function compareSegments(a: StoredBlob['segments'][number] | undefined, b: StoredBlob['segments'][number] | undefined): number {
  if (!a || !b) return a ? 1 : b ? -1 : 0;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : a.offset - b.offset;
}
