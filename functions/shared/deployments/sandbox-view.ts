/** What `GET /sandboxes` shows of a caller's live sandbox. */
import type { Deployment } from './deployment.ts';

export function sandboxView(deployment: Deployment) {
  return {
    sandboxId: deployment.sandboxId ?? null,
    deploymentId: deployment.deploymentId,
    projectId: deployment.projectId,
    status: deployment.status,
    url: deployment.status === 'RUNNING' ? (deployment.appUrl ?? null) : null,
    createdAt: deployment.createdAt,
    expiresAt: deployment.expiresAt ?? null,
  };
}
