/** `DELETE /deployments/{id}`: kills the sandbox and ends TERMINATED. Idempotent. */
import type { Deployment } from '../deployment.ts';
import { isTerminal } from '../deployment-status.ts';
import type { DeploymentDependencies } from '../dependencies.ts';
import { DeploymentNotFoundError, IllegalTransitionError } from '../errors.ts';
import { killDeploymentSandboxes } from './kill-deployment-sandboxes.ts';

export async function terminateDeployment(dependencies: DeploymentDependencies, userId: string, deploymentId: string): Promise<Deployment> {
  const { deployments, sandboxes } = dependencies;
  const deployment = await deployments.get(deploymentId);
  // Another caller's deployment does not exist as far as this caller can tell.
  if (!deployment || deployment.userId !== userId) throw new DeploymentNotFoundError(deploymentId);
  if (isTerminal(deployment.status)) {
    // Its sandbox now belongs to the redeploy that replaced it.
    if (!deployment.replacedBy) await killDeploymentSandboxes(sandboxes, deploymentId, deployment.sandboxId);
    return deployment;
  }
  let terminated: Deployment;
  try {
    // Record first. The saga is not stopped: its next step fails its own transition and its
    // Catch runs the cleanup, which kills anything a step was creating right now (a stopped
    // execution would run no Catch).
    terminated = await deployments.transition(deploymentId, 'TERMINATED');
  } catch (error) {
    if (!(error instanceof IllegalTransitionError)) throw error;
    terminated = (await deployments.get(deploymentId))!;
  }
  // A redeploy may have taken the sandbox over between our read and our write.
  if (!terminated.replacedBy) await killDeploymentSandboxes(sandboxes, deploymentId, terminated.sandboxId ?? deployment.sandboxId);
  return terminated;
}
