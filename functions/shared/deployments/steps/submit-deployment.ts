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
import { SandboxNotReusableError } from '../errors.ts';
import { findReusableDeployment } from './find-reusable-deployment.ts';

export interface SubmitDeploymentInput {
  userId: string;
  request: DeploymentRequest;
  deploymentId?: string;
  batchPlan?: BatchPlanOptions;
  /** What the plan may assume about the sandboxes (their domain, their tools). */
  sandbox?: SandboxFacts;
}

export async function submitDeployment(dependencies: Uses<'deployments' | 'staging' | 'workflows' | 'sandboxes'>, input: SubmitDeploymentInput): Promise<Deployment> {
  const { deployments, staging, workflows } = dependencies;
  const { request } = input;
  const deploymentId = input.deploymentId ?? randomUUID();
  const files: StagedFile[] = request.files.map((file) => ({ path: file.path, content: decodeContent(file) }));
  const batchMembers = planBatches(files.map((file) => ({ path: file.path, size: file.content.length })), input.batchPlan ?? DEFAULT_BATCH_PLAN);
  const { env } = request.options;
  // PlanError (no start command, a broken package.json) before anything is created.
  const buildPlan = planDeployment(request, input.sandbox);
  const previous = await findReusableDeployment(dependencies, input.userId, request);

  await deployments.create({
    deploymentId,
    userId: input.userId,
    projectId: request.projectId,
    status: 'PENDING',
    options: effectiveOptions(request, buildPlan),
    plan: buildPlan,
    envNames: Object.keys(env).sort(),
    filesTotal: files.length,
    bytesTotal: files.reduce((sum, file) => sum + file.content.length, 0),
    batchesTotal: batchMembers.length,
    createdAt: nowOf(dependencies).toISOString(),
    ...(request.options.callbackUrl ? { callbackUrl: request.options.callbackUrl } : {}),
    ...(previous
      ? {
          sandboxId: previous.sandboxId,
          expiresAt: previous.expiresAt,
          reusedFrom: { deploymentId: previous.deploymentId, ...(previous.appPid ? { appPid: previous.appPid } : {}) },
        }
      : {}),
  });
  let handedOver = false;
  try {
    await staging.putManifest({ deploymentId, env });
    const batches: StagedBatchRef[] = [];
    for (const [index, members] of batchMembers.entries()) {
      batches.push(await staging.putBatch(deploymentId, index, members.map((member) => files[member]!)));
    }
    if (previous) {
      // Last, once our record exists (so the sweep finds the sandbox owned all along): the sandbox
      // changes hands in one conditional write, RUNNING -> TERMINATED replaced by us.
      handedOver = (await deployments.transitionFrom(previous.deploymentId, previous, 'TERMINATED', { replacedBy: deploymentId })) !== undefined;
      if (!handedOver) throw new SandboxNotReusableError(`sandbox ${previous.sandboxId} changed while redeploying; try again`, 409);
    }
    const executionArn = await workflows.start({ deploymentId, batches });
    return await deployments.update(deploymentId, { executionArn });
  } catch (error) {
    const failure = { step: 'submit' as const, name: (error as Error).name ?? 'Error', message: (error as Error).message };
    await deployments.transition(deploymentId, 'FAILED', { error: failure }).catch(() => undefined);
    // A sandbox we took over is ours to end; one we did not get stays with its deployment.
    if (handedOver && previous?.sandboxId) await dependencies.sandboxes.kill(previous.sandboxId).catch(() => undefined);
    await staging.deleteAll(deploymentId).catch(() => undefined);
    throw error;
  }
}
