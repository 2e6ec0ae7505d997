/**
 * Saga step 1: a sandbox for the deployment. Safe to run twice: a sandbox an earlier attempt
 * created (the Lambda timed out after the provider answered) is found by its metadata and reused,
 * so a deployment never owns two.
 */
import { MANAGED_BY } from '../app-layout.ts';
import type { Deployment } from '../deployment.ts';
import { nowOf, type Uses } from '../dependencies.ts';
import { DeploymentStateError } from '../errors.ts';
import { loadDeployment } from '../load-deployment.ts';
import { prepareAppDir } from '../manifest/prepare-app-dir.ts';
import type { StagedDocuments } from '../manifest/staged-documents.ts';

export interface CreateSandboxResult {
  sandboxId: string;
  expiresAt: string;
}

export async function createSandbox(
  dependencies: Uses<'deployments' | 'sandboxes' | 'staging' | 'ownership'> & { documents?: StagedDocuments },
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

  if (deployment.reusedFrom) return takeOverSandbox(dependencies, deployment);

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
  await dependencies.ownership.recordOwner(sandboxId, deploymentId, expiresAt!);
  const sandboxCreatedAt = existing?.startedAt.toISOString() ?? nowOf(dependencies).toISOString();
  await deployments.transition(deploymentId, 'UPLOADING', { sandboxId, expiresAt, sandboxCreatedAt });
  return { sandboxId, expiresAt: expiresAt! };
}

/**
 * A redeploy: no new sandbox. It must own the sandbox by now (the API handed it over before the
 * saga started). The previous app is stopped and the app directory prepared (emptied but for
 * node_modules, or for a manifest redeploy only the files that are gone removed, prepareAppDir)
 * before the new files arrive, and the sandbox lives this deployment's own lifetime from now.
 */
async function takeOverSandbox(
  dependencies: Uses<'deployments' | 'sandboxes' | 'ownership'> & { documents?: StagedDocuments },
  deployment: Deployment,
): Promise<CreateSandboxResult> {
  const { sandboxId, appPid } = deployment.reusedFrom!;
  if ((await dependencies.ownership.ownerOf(sandboxId)) !== deployment.deploymentId) {
    throw new DeploymentStateError(deployment.deploymentId, deployment.status, `the owner of sandbox ${sandboxId}`);
  }
  const sandbox = await dependencies.sandboxes.connect(sandboxId);
  if (appPid) await sandbox.killProcess(appPid);
  await prepareAppDir(dependencies.documents, deployment, sandbox);
  const lifetimeSeconds = deployment.options.timeoutSeconds;
  await sandbox.extendLifetime(lifetimeSeconds);
  const expiresAt = new Date(nowOf(dependencies).getTime() + lifetimeSeconds * 1000).toISOString();
  await dependencies.deployments.transition(deployment.deploymentId, 'UPLOADING', { sandboxId, expiresAt });
  return { sandboxId, expiresAt };
}
