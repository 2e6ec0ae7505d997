/** Saga step 2 (one Map iteration): writes one staged batch into the sandbox in ONE request. */
import { APP_DIR } from '../app-layout.ts';
import type { Uses } from '../dependencies.ts';
import { DeploymentStateError } from '../errors.ts';
import { loadDeployment } from '../load-deployment.ts';

export interface UploadBatchInput {
  deploymentId: string;
  batch: { index: number; key: string };
}

export async function uploadBatch(dependencies: Uses<'deployments' | 'sandboxes' | 'staging'>, input: UploadBatchInput): Promise<{ index: number; files: number }> {
  const { deployments, sandboxes, staging } = dependencies;
  const deployment = await loadDeployment(deployments, input.deploymentId);
  if (deployment.status !== 'UPLOADING' || !deployment.sandboxId) {
    throw new DeploymentStateError(input.deploymentId, deployment.status, 'UPLOADING');
  }
  const files = await staging.getBatch(input.batch.key);
  const sandbox = await sandboxes.connect(deployment.sandboxId);
  await sandbox.writeFiles(files.map((file) => ({ path: `${APP_DIR}/${file.path}`, content: file.content })));
  await deployments.recordBatch(input.deploymentId, input.batch.index, files.length);
  return { index: input.batch.index, files: files.length };
}
