/** The console's one line per deployment status change (`npm start`). */
import type { DeploymentEvent } from '../../functions/shared/deployments/events/deployment-event.ts';

export function statusChangeLine(event: DeploymentEvent): string {
  const change = event.previousStatus ? `${event.previousStatus} → ${event.status}` : event.status;
  const failure = event.error ? ` (${event.error.step}: ${event.error.name})` : '';
  const replaced = event.replacedBy ? ` (replaced by ${event.replacedBy})` : '';
  return `deployment ${event.deploymentId} [${event.projectId}]: ${change}${failure}${replaced}`;
}
