import type { Deployment } from './deployment.ts';
import type { DeploymentRepository } from './ports.ts';
import { DeploymentNotFoundError } from './errors.ts';

export async function loadDeployment(deployments: DeploymentRepository, deploymentId: string): Promise<Deployment> {
  const deployment = await deployments.get(deploymentId);
  if (!deployment) throw new DeploymentNotFoundError(deploymentId);
  return deployment;
}

/** The last lines of a text, for error messages. */
export function tail(text: string, lines = 10): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}
