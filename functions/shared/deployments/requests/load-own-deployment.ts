import type { Deployment } from '../deployment.ts';
import type { DeploymentRepository } from '../ports.ts';
import { DeploymentNotFoundError } from '../errors.ts';

/** The caller's deployment; another caller's does not exist as far as this caller can tell. */
export async function loadOwnDeployment(deployments: DeploymentRepository, userId: string, deploymentId: string): Promise<Deployment> {
  const deployment = await deployments.get(deploymentId);
  if (!deployment || deployment.userId !== userId) throw new DeploymentNotFoundError(deploymentId);
  return deployment;
}
