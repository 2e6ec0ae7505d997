/**
 * `POST /deployments` with a manifest: plans the build (contents the plan reads come inline or
 * from the owner's held blobs), records the deployment in AWAITING_UPLOAD and answers with the
 * presigned parts that carry the blobs the owner does not hold yet. Nothing runs until the
 * completion call; a deployment never completed is ended by the sweep past its deadline.
 */
import { randomUUID } from 'node:crypto';
import type { Deployment } from '../deployment.ts';
import { nowOf } from '../dependencies.ts';
import { decodeContent } from '../deployment-request.ts';
import { effectiveOptions, type SandboxFacts } from '../plan-deployment.ts';
import { releaseQuotaSlots, reserveQuotas, userLimits } from '../quotas/deployment-quotas.ts';
import { DEFAULT_QUOTA_LIMITS, type QuotaLimits } from '../quotas/quota-limits.ts';
import { endDeployment } from '../ending/end-deployment.ts';
import { findReusableDeployment } from '../requests/find-reusable-deployment.ts';
import type { StoredBlob, UploadPart } from './blob-store.ts';
import type { UsesManifest } from './manifest-dependencies.ts';
import { DEFAULT_UPLOAD_SETTINGS, type UploadSettings } from './manifest-limits.ts';
import { planManifest } from './manifest-plan.ts';
import type { ManifestRequest } from './manifest-request.ts';
import { EMPTY_SHA256, PENDING_UPLOAD_DOCUMENT, type ManifestFile, type PendingUpload } from './pending-upload.ts';
import { readBlob } from './read-blob.ts';
import { planUploadParts } from './upload-parts.ts';

export interface SubmitManifestInput {
  userId: string;
  request: ManifestRequest;
  deploymentId?: string;
  settings?: UploadSettings;
  sandbox?: SandboxFacts;
  /** The quota limits of users an operator gave no limits of their own. */
  quotaDefaults?: QuotaLimits;
}

export interface PresignedPart extends UploadPart {
  url: string;
}

export interface SubmittedManifest {
  deployment: Deployment;
  /** The blobs to upload, each once (several files may share one). */
  blobs: { sha256: string; size: number }[];
  parts: PresignedPart[];
}

export async function submitManifestDeployment(
  dependencies: UsesManifest<'deployments' | 'staging' | 'sandboxes' | 'ownership' | 'quotas' | 'logArchive'>,
  input: SubmitManifestInput,
): Promise<SubmittedManifest> {
  const { deployments, staging, blobs, documents } = dependencies;
  const { request } = input;
  const settings = input.settings ?? DEFAULT_UPLOAD_SETTINGS;
  const deploymentId = input.deploymentId ?? randomUUID();
  const files: ManifestFile[] = request.manifest.map(({ path, size, sha256, mode }) => ({ path, size, sha256, mode }));
  const held = await blobs.heldBlobs(input.userId);
  held.set(EMPTY_SHA256, { size: 0, segments: [] });

  // PlanError or missing contents (400) before anything is created.
  const inline = new Map(request.manifest.flatMap((entry) => (entry.content === undefined ? [] : [[entry.path, decodeContent({ content: entry.content, encoding: entry.encoding })] as const])));
  const { plan } = await planManifest(
    files,
    request.options,
    async (entry) => {
      const blob = held.get(entry.sha256);
      return blob && blob.size === entry.size ? readBlob(blobs, blob) : undefined;
    },
    input.sandbox,
    inline,
  );
  // A named sandbox must be a live one of the caller's now; it is looked up again at completion.
  const previous = await findReusableDeployment(dependencies, input.userId, request);
  // 429 or 400 before anything is created; the in-flight slot covers the wait for the upload.
  const limits = await userLimits(dependencies, input.userId, input.quotaDefaults ?? DEFAULT_QUOTA_LIMITS);
  const quotaSlots = await reserveQuotas(dependencies, {
    userId: input.userId,
    deploymentId,
    limits,
    timeoutSeconds: request.options.timeoutSeconds,
    redeploy: previous !== undefined,
  });

  const needed = neededBlobs(files, held);
  const parts = planUploadParts(needed, settings.partBytes);
  const heldOfManifest: [string, StoredBlob][] = [...new Set(files.map((file) => file.sha256))].flatMap((sha256) => {
    const blob = held.get(sha256);
    return blob ? [[sha256, blob] as [string, StoredBlob]] : [];
  });
  const now = nowOf(dependencies);
  const bytesTotal = files.reduce((sum, file) => sum + file.size, 0);
  const bytesToUpload = needed.reduce((sum, blob) => sum + blob.size, 0);
  const deployment = await deployments.create({
    quotaSlots,
    ...(request.options.callbackUrl ? { callbackUrl: request.options.callbackUrl } : {}),
    deploymentId,
    userId: input.userId,
    projectId: request.projectId,
    status: 'AWAITING_UPLOAD',
    options: effectiveOptions(request, plan),
    plan,
    envNames: Object.keys(request.options.env).sort(),
    filesTotal: files.length,
    bytesTotal,
    batchesTotal: 0,
    createdAt: now.toISOString(),
    upload: {
      deadline: new Date(now.getTime() + settings.deadlineSeconds * 1000).toISOString(),
      filesInManifest: files.length,
      blobsToUpload: needed.length,
      bytesToUpload,
      bytesHeld: bytesTotal - bytesOfFilesWithBlobs(files, new Set(needed.map((blob) => blob.sha256))),
      parts: parts.length,
    },
  });
  try {
    await staging.putManifest({ deploymentId, env: request.options.env });
    const pending: PendingUpload = {
      files,
      parts,
      held: heldOfManifest,
      redeploy: { ...(request.sandboxId ? { sandboxId: request.sandboxId } : {}), ...(request.reuse !== undefined ? { reuse: request.reuse } : {}) },
    };
    await documents.put(deploymentId, PENDING_UPLOAD_DOCUMENT, pending);
    const presigned = await Promise.all(
      parts.map(async (part) => ({ ...part, url: await blobs.presignPart(deploymentId, part.partNumber, settings.deadlineSeconds) })),
    );
    return { deployment, blobs: needed, parts: presigned };
  } catch (error) {
    const failure = { step: 'submit' as const, name: (error as Error).name ?? 'Error', message: (error as Error).message };
    await endDeployment(dependencies, { deployment, to: 'FAILED', changes: { error: failure } }).catch(() => undefined);
    await releaseQuotaSlots(dependencies, { userId: input.userId, deploymentId, quotaSlots }).catch(() => undefined);
    throw error;
  }
}

/** Each blob the owner does not hold, once, in manifest order. */
function neededBlobs(files: readonly ManifestFile[], held: ReadonlyMap<string, StoredBlob>): { sha256: string; size: number }[] {
  const seen = new Set<string>();
  return files.flatMap((file) => {
    const blob = held.get(file.sha256);
    if ((blob && blob.size === file.size) || seen.has(file.sha256)) return [];
    seen.add(file.sha256);
    return [{ sha256: file.sha256, size: file.size }];
  });
}

function bytesOfFilesWithBlobs(files: readonly ManifestFile[], shas: ReadonlySet<string>): number {
  const counted = new Set<string>();
  return files.reduce((sum, file) => {
    if (!shas.has(file.sha256) || counted.has(file.sha256)) return sum;
    counted.add(file.sha256);
    return sum + file.size;
  }, 0);
}
