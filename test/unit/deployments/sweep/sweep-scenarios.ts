/** States the sweep meets, built through the fake ports. */
import { MANAGED_BY } from '../../../../functions/shared/deployments/app-layout.ts';
import type { Deployment } from '../../../../functions/shared/deployments/deployment.ts';
import type { DeploymentStatus } from '../../../../functions/shared/deployments/deployment-status.ts';
import { deploymentIn, type BuiltDeployment } from '../../../support/fakes/deployment-builders.ts';
import type { FakeSandbox } from '../../../support/fakes/fake-sandbox.ts';
import type { FakePorts } from '../../../support/fakes/fake-ports.ts';

/**
 * RUNNING deployments whose recorded expiry (an hour) has passed while their sandboxes still
 * live (the provider gives them two hours): the clock is moved past the expiries.
 */
export async function expiredDeployments(ports: FakePorts, count: number): Promise<BuiltDeployment[]> {
  const built: BuiltDeployment[] = [];
  for (let index = 0; index < count; index++) {
    built.push(await deploymentIn(ports, 'RUNNING', { sandboxLifetimeSeconds: 7200 }));
    ports.clock.advanceSeconds(1);
  }
  ports.clock.advanceSeconds(3600);
  return built;
}

/** A sandbox of ours, as a create step makes it, for a deployment id. */
export function ourSandbox(ports: FakePorts, deploymentId: string, userId = 'user-1'): FakeSandbox {
  return ports.sandboxes.seed({ metadata: { userId, projectId: 'hello', deploymentId, managedBy: MANAGED_BY }, expiresAt: ports.clock.inSeconds(7200) });
}

/** A record in a saga step whose sandbox lives, with its execution in the given state (or none). */
export async function inFlight(ports: FakePorts, status: DeploymentStatus, execution: 'RUNNING' | 'FAILED' | 'TIMED_OUT' | 'NOT_FOUND' | 'none'): Promise<BuiltDeployment & { deployment: Deployment }> {
  const built = await deploymentIn(ports, status);
  if (execution === 'none') return built;
  const arn = execution === 'NOT_FOUND' ? `arn:aws:states:us-east-1:000000000000:execution:coderunner-deployments:${built.deployment.deploymentId}` : ports.workflows.seed(built.deployment.deploymentId, execution);
  built.deployment = await ports.deployments.update(built.deployment.deploymentId, { executionArn: arn });
  return built;
}

/** How many times each sandbox was killed, by any caller. */
export function killsBySandbox(ports: FakePorts): Map<string, number> {
  const kills = new Map<string, number>();
  for (const entry of [...ports.journal.calls('sandboxes.kill'), ...ports.journal.calls('sandbox.kill')]) {
    const sandboxId = String(entry.args[0]);
    kills.set(sandboxId, (kills.get(sandboxId) ?? 0) + 1);
  }
  return kills;
}
