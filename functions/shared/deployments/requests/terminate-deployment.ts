/**
 * `DELETE /deployments/{id}`: saves the logs, kills the sandbox and ends TERMINATED. Idempotent.
 * A saga still running is not stopped: its next step finds its sandbox gone or its transition
 * refused, and its Catch runs the Kill step, which kills anything a step was creating right then
 * (a stopped execution would run no Catch).
 */
import type { Deployment } from '../deployment.ts';
import { isTerminal } from '../deployment-status.ts';
import type { Uses } from '../dependencies.ts';
import { loadOwnDeployment } from './load-own-deployment.ts';
import { endDeployment, type EndingPorts } from '../ending/end-deployment.ts';
import { killDeploymentSandboxes } from '../ending/kill-deployment-sandboxes.ts';

export async function terminateDeployment(dependencies: Uses<EndingPorts>, userId: string, deploymentId: string): Promise<Deployment> {
  const { deployments } = dependencies;
  const deployment = await loadOwnDeployment(deployments, userId, deploymentId);
  if (isTerminal(deployment.status)) {
    // Nothing of it may be left; a sandbox a redeploy took over is not its any more.
    await killDeploymentSandboxes(dependencies, deploymentId, deployment);
    return deployment;
  }
  const { ended } = await endDeployment(dependencies, { deployment, to: 'TERMINATED' });
  // Ended some other way meanwhile (failed, expired, or handed over to a redeploy): that stands.
  return ended ?? (await deployments.get(deploymentId))!;
}
