/**
 * `POST /deployments`: records the deployment, stages its files in S3 as byte-sized batches and
 * starts the saga with references only.
 */
import { randomUUID } from 'node:crypto';
import type { Deployment } from '../deployment.ts';
import { nowOf, type Uses } from '../dependencies.ts';
import { decodeContent, type DeploymentRequest } from '../deployment-request.ts';
import { effectiveOptions, planDeployment, type SandboxFacts } from '../plan-deployment.ts';
import { DEFAULT_BATCH_PLAN, planBatches, type BatchPlanOptions } from '../batches.ts';
import type { StagedBatchRef, StagedFile } from '../ports.ts';
import { endDeployment } from '../ending/end-deployment.ts';
import { redeployLifetimeSeconds, releaseQuotaSlots, reserveQuotas, userLimits } from '../quotas/deployment-quotas.ts';
import { DEFAULT_QUOTA_LIMITS, type QuotaLimits } from '../quotas/quota-limits.ts';
import { findReusableDeployment } from './find-reusable-deployment.ts';
import { handOverSandbox } from './hand-over-sandbox.ts';

export interface SubmitDeploymentInput {
  userId: string;
  request: DeploymentRequest;
  deploymentId?: string;
  batchPlan?: BatchPlanOptions;
  /** What the plan may assume about the sandboxes (their domain, their tools). */
  sandbox?: SandboxFacts;
  /** The quota limits of users an operator gave no limits of their own. */
  quotaDefaults?: QuotaLimits;
}

export async function submitDeployment(
  dependencies: Uses<'deployments' | 'staging' | 'workflows' | 'sandboxes' | 'ownership' | 'quotas' | 'logArchive'>,
  input: SubmitDeploymentInput,
): Promise<Deployment> {
  const { deployments, staging, workflows } = dependencies;
  const { request } = input;
  const deploymentId = input.deploymentId ?? randomUUID();
  const files: StagedFile[] = request.files.map((file) => ({ path: file.path, content: decodeContent(file) }));
  const batchMembers = planBatches(files.map((file) => ({ path: file.path, size: file.content.length })), input.batchPlan ?? DEFAULT_BATCH_PLAN);
  const { env } = request.options;
  // PlanError (no start command, a broken package.json) before anything is created.
  const buildPlan = planDeployment(request, input.sandbox);
  const previous = await findReusableDeployment(dependencies, input.userId, request);
  // 429 (QuotaExceededError) or 400 (a lifetime past the user's longest) before anything is created.
  const limits = await userLimits(dependencies, input.userId, input.quotaDefaults ?? DEFAULT_QUOTA_LIMITS);
  const quotaSlots = await reserveQuotas(dependencies, {
    userId: input.userId,
    deploymentId,
    limits,
    timeoutSeconds: request.options.timeoutSeconds,
    redeploy: previous !== undefined,
  });

  await deployments.create({
    deploymentId,
    userId: input.userId,
    projectId: request.projectId,
    status: 'PENDING',
    options: {
      ...effectiveOptions(request, buildPlan),
      ...(previous ? { timeoutSeconds: redeployLifetimeSeconds(previous, limits, request.options.timeoutSeconds, nowOf(dependencies)) } : {}),
    },
    plan: buildPlan,
    envNames: Object.keys(env).sort(),
    filesTotal: files.length,
    bytesTotal: files.reduce((sum, file) => sum + file.content.length, 0),
    batchesTotal: batchMembers.length,
    createdAt: nowOf(dependencies).toISOString(),
    ...(request.options.callbackUrl ? { callbackUrl: request.options.callbackUrl } : {}),
    quotaSlots,
    // A redeploy names the sandbox it is to take over, but does not claim it yet: until the
    // hand-over below, the sandbox and its app stay the previous deployment's, whatever dies.
    ...(previous
      ? {
          reusedFrom: {
            deploymentId: previous.deploymentId,
            sandboxId: previous.sandboxId!,
            ...(previous.expiresAt ? { expiresAt: previous.expiresAt } : {}),
            ...(previous.appPid ? { appPid: previous.appPid } : {}),
          },
          // The sandbox's age bounds its lifetime, whoever deploys into it.
          sandboxCreatedAt: previous.sandboxCreatedAt ?? previous.createdAt,
        }
      : {}),
  });
  try {
    await staging.putManifest({ deploymentId, env });
    const batches: StagedBatchRef[] = [];
    for (const [index, members] of batchMembers.entries()) {
      batches.push(await staging.putBatch(deploymentId, index, members.map((member) => files[member]!)));
    }
    if (previous) {
      const slots = await handOverSandbox(dependencies, previous, { deploymentId, userId: input.userId, quotaSlots });
      Object.assign(quotaSlots, slots);
    }
    const executionArn = await workflows.start({ deploymentId, batches });
    return await deployments.update(deploymentId, { executionArn });
  } catch (error) {
    const failure = { step: 'submit' as const, name: (error as Error).name ?? 'Error', message: (error as Error).message };
    // Ended like any failed deployment: a sandbox it took over is its to kill, one it did not get
    // stays with its deployment; its staged files and its quota go.
    const record = await deployments.get(deploymentId).catch(() => undefined);
    if (record) await endDeployment(dependencies, { deployment: record, to: 'FAILED', changes: { error: failure } }).catch(() => undefined);
    await releaseQuotaSlots(dependencies, { userId: input.userId, deploymentId, quotaSlots }).catch(() => undefined);
    throw error;
  }
}

