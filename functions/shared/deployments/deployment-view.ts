/** What callers see of a deployment (`GET /deployments/{id}` and friends). */
import type { Deployment } from './deployment.ts';
import { filesUploaded } from './deployment.ts';
import { STEP_OF_STATUS } from './deployment-status.ts';

export function deploymentView(deployment: Deployment) {
  const self = `/deployments/${deployment.deploymentId}`;
  return {
    deploymentId: deployment.deploymentId,
    projectId: deployment.projectId,
    status: deployment.status,
    step: STEP_OF_STATUS[deployment.status] ?? null,
    sandboxId: deployment.sandboxId ?? null,
    url: deployment.status === 'RUNNING' ? (deployment.appUrl ?? null) : null,
    error: deployment.error ?? null,
    progress: { filesUploaded: filesUploaded(deployment), filesTotal: deployment.filesTotal, batchesTotal: deployment.batchesTotal },
    options: deployment.options,
    /** The path that answered the health check (the health path, or `/` when that was 404). */
    healthyPath: deployment.healthyPath ?? null,
    /** How the app is installed, built, started and reached, with the reason for each choice. */
    plan: deployment.plan ?? null,
    env: deployment.envNames,
    expiresAt: deployment.expiresAt ?? null,
    redeployOf: deployment.reusedFrom?.deploymentId ?? null,
    replacedBy: deployment.replacedBy ?? null,
    /** Where each status change is POSTed (GET /deployments/{id}/events lists them too). */
    callbackUrl: deployment.callbackUrl ?? null,
    /** A manifest deployment's transfer (null for inline contents). */
    upload: deployment.upload ?? null,
    /** How the dependencies got into the sandbox: restored from cache, installed, or kept (null until the start step, or with nothing to install). */
    dependencies: deployment.dependencies ?? null,
    timestamps: { createdAt: deployment.createdAt, updatedAt: deployment.updatedAt, ...deployment.timestamps },
    links: { self },
  };
}

export type DeploymentView = ReturnType<typeof deploymentView>;
