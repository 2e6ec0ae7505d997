/**
 * Saga step 1: a sandbox for the deployment. Safe to run twice: a sandbox an earlier attempt
 * created (the Lambda timed out after the provider answered) is found by its metadata and reused,
 * so a deployment never owns two.
 */
import { MANAGED_BY } from '../app-layout.ts';
import type { Deployment } from '../deployment.ts';
import { nowOf, type Uses } from '../dependencies.ts';
import { DeploymentStateError } from '../errors.ts';
import { loadDeployment } from './load-deployment.ts';
import { prepareAppDir } from '../manifest/prepare-app-dir.ts';
import type { StagedDocuments } from '../manifest/staged-documents.ts';

export interface CreateSandboxResult {
  sandboxId: string;
  expiresAt: string;
}

export async function createSandbox(
  dependencies: Uses<'deployments' | 'sandboxes' | 'staging'> & { documents?: StagedDocuments },
  deploymentId: string,
): Promise<CreateSandboxResult> {
  const { deployments, sandboxes, staging } = dependencies;
  let deployment = await loadDeployment(deployments, deploymentId);
  if (deployment.status === 'PENDING') deployment = await deployments.transition(deploymentId, 'CREATING');
  if (deployment.status !== 'CREATING') {
    if (deployment.sandboxId && deployment.expiresAt && ['UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING'].includes(deployment.status)) {
      return { sandboxId: deployment.sandboxId, expiresAt: deployment.expiresAt };
    }
    throw new DeploymentStateError(deploymentId, deployment.status, 'PENDING or CREATING');
  }

  if (deployment.reusedFrom && deployment.sandboxId) return takeOverSandbox(dependencies, deployment);

  const lifetimeSeconds = deployment.options.timeoutSeconds;
  const [existing, ...extra] = await sandboxes.list({ deploymentId });
  await Promise.all(extra.map((sandbox) => sandboxes.kill(sandbox.sandboxId)));
  let sandboxId = existing?.sandboxId;
  let expiresAt = existing?.expiresAt.toISOString();
  if (!sandboxId) {
    const manifest = await staging.getManifest(deploymentId);
    const sandbox = await sandboxes.create({
      metadata: { userId: deployment.userId, projectId: deployment.projectId, deploymentId, managedBy: MANAGED_BY },
      lifetimeSeconds,
      env: { ...manifest.env, PORT: String(deployment.options.port) },
    });
    sandboxId = sandbox.sandboxId;
    expiresAt = new Date(nowOf(dependencies).getTime() + lifetimeSeconds * 1000).toISOString();
  }
  await deployments.transition(deploymentId, 'UPLOADING', { sandboxId, expiresAt });
  return { sandboxId, expiresAt: expiresAt! };
}

/**
 * A redeploy: no new sandbox. The previous app is stopped and the app directory emptied (keeping
 * node_modules, so the install is incremental) before the new files arrive; a manifest redeploy
 * removes only the files that are gone (prepareAppDir).
 */
async function takeOverSandbox(dependencies: Uses<'deployments' | 'sandboxes'> & { documents?: StagedDocuments }, deployment: Deployment): Promise<CreateSandboxResult> {
  const sandbox = await dependencies.sandboxes.connect(deployment.sandboxId!);
  if (deployment.reusedFrom?.appPid) await sandbox.killProcess(deployment.reusedFrom.appPid);
  await prepareAppDir(dependencies.documents, deployment, sandbox);
  const expiresAt = deployment.expiresAt ?? new Date(nowOf(dependencies).getTime() + deployment.options.timeoutSeconds * 1000).toISOString();
  await dependencies.deployments.transition(deployment.deploymentId, 'UPLOADING', { sandboxId: deployment.sandboxId, expiresAt });
  return { sandboxId: deployment.sandboxId!, expiresAt };
}
