/**
 * `POST /deployments/{id}/complete`: checks the uploads against the manifest (every part there,
 * every blob's SHA-256), stores the verified parts as the owner's chunks, works out what goes into
 * the sandbox (a redeploy into a live one: only new or changed files, and what to remove), stages
 * those writes as byte-sized batches and starts the saga. A refused completion starts nothing:
 * the deployment keeps waiting (a corrected upload may complete it) until its deadline.
 */
import type { Deployment } from '../deployment.ts';
import { planBatches, type BatchPlanOptions } from '../batches.ts';
import { nowOf } from '../dependencies.ts';
import { DeploymentStateError } from '../errors.ts';
import { redeployLifetimeSeconds, releaseQuotaSlots, takeLiveSandboxSlot, userLimits, type QuotaSlots } from '../quotas/deployment-quotas.ts';
import { DEFAULT_QUOTA_LIMITS, type QuotaLimits } from '../quotas/quota-limits.ts';
import { endDeployment } from '../ending/end-deployment.ts';
import { handOverSandbox } from '../requests/hand-over-sandbox.ts';
import type { StagedBatchRef } from '../ports.ts';
import { findReusableDeployment } from '../requests/find-reusable-deployment.ts';
import { loadOwnDeployment } from '../requests/load-own-deployment.ts';
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
  /** The quota limits of users an operator gave no limits of their own. */
  quotaDefaults?: QuotaLimits;
}

export async function completeUpload(
  dependencies: UsesManifest<'deployments' | 'staging' | 'sandboxes' | 'workflows' | 'ownership' | 'quotas' | 'logArchive'>,
  input: CompleteUploadInput,
): Promise<Deployment> {
  const { deployments, workflows, blobs, documents } = dependencies;
  const { deploymentId, userId } = input;
  const deployment = await loadOwnDeployment(deployments, userId, deploymentId);
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
  const limits = await userLimits(dependencies, userId, input.quotaDefaults ?? DEFAULT_QUOTA_LIMITS);
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
    // Named, not claimed: the sandbox stays the previous deployment's until the hand-over below.
    ...(previous
      ? {
          reusedFrom: {
            deploymentId: previous.deploymentId,
            sandboxId: previous.sandboxId!,
            ...(previous.expiresAt ? { expiresAt: previous.expiresAt } : {}),
            ...(previous.appPid ? { appPid: previous.appPid } : {}),
          },
          sandboxCreatedAt: previous.sandboxCreatedAt ?? previous.createdAt,
          options: { ...deployment.options, timeoutSeconds: redeployLifetimeSeconds(previous, limits, deployment.options.timeoutSeconds, nowOf(dependencies)) },
        }
      : {}),
  }).then((moved) => {
    if (!moved) throw new DeploymentStateError(deploymentId, deployment.status, 'AWAITING_UPLOAD (it changed meanwhile)');
  });

  let quotaSlots: QuotaSlots = { ...deployment.quotaSlots };
  try {
    if (previous) {
      quotaSlots = await handOverSandbox(dependencies, previous, { deploymentId, userId, quotaSlots });
    } else if (quotaSlots.liveSandboxes === undefined) {
      // It meant to redeploy into a sandbox that has ended since: it needs a sandbox slot of its own.
      quotaSlots.liveSandboxes = await takeLiveSandboxSlot(dependencies, { userId, deploymentId, limits });
      await deployments.update(deploymentId, { quotaSlots });
    }
    const executionArn = await workflows.start({ deploymentId, batches });
    return await deployments.update(deploymentId, { executionArn });
  } catch (error) {
    const failure = { step: 'submit' as const, name: (error as Error).name ?? 'Error', message: (error as Error).message };
    const record = await deployments.get(deploymentId).catch(() => undefined);
    if (record) await endDeployment(dependencies, { deployment: record, to: 'FAILED', changes: { error: failure } }).catch(() => undefined);
    await releaseQuotaSlots(dependencies, { userId, deploymentId, quotaSlots }).catch(() => undefined);
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
