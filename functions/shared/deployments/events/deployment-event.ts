/**
 * "Deployment Status Changed": what every status change publishes (EventBridge), keeps (the
 * events route) and delivers (webhooks). The event is a pure function of the record right after
 * the write, so a retried write publishes the very same event again: consumers dedupe by eventId.
 */
import type { Deployment, DeploymentFailure } from '../deployment.ts';
import { DEPLOYMENT_STATUSES, STEP_OF_STATUS, type DeploymentStatus } from '../deployment-status.ts';

/** EventBridge `source` of every CodeRunner event. */
export const EVENT_SOURCE = 'coderunner';
/** EventBridge `detail-type` of a status change; webhooks carry it in the X-CodeRunner-Event header. */
export const STATUS_CHANGED = 'Deployment Status Changed';

export interface DeploymentEvent {
  /** `<deploymentId>:<status>`: a status is entered at most once, so the id names one change. */
  eventId: string;
  deploymentId: string;
  userId: string;
  projectId: string;
  status: DeploymentStatus;
  /** null for the first status (PENDING). */
  previousStatus: DeploymentStatus | null;
  /** The saga step the deployment is in, or for FAILED the step that failed; null once RUNNING or ended. */
  step: string | null;
  sandboxId: string | null;
  /** The app's URL, once RUNNING. */
  url: string | null;
  error: DeploymentFailure | null;
  /** The redeploy that took this deployment's sandbox over (this one's TERMINATED carries it). */
  replacedBy: string | null;
  /** The record's version after the change. */
  version: number;
  /** When the status was entered (ISO 8601). */
  time: string;
}

export function eventIdOf(deploymentId: string, status: DeploymentStatus): string {
  return `${deploymentId}:${status}`;
}

/**
 * The event of the change that brought `deployment` into its current status. `previousStatus`
 * is known to writers that expected one (transitionFrom); otherwise it is the status entered
 * last before the current one (statuses never repeat, and DEPLOYMENT_STATUSES is in the order
 * they can follow each other, which breaks ties between writes in the same millisecond).
 */
export function statusChangeEvent(deployment: Deployment, previousStatus?: DeploymentStatus | null): DeploymentEvent {
  const { status } = deployment;
  return {
    eventId: eventIdOf(deployment.deploymentId, status),
    deploymentId: deployment.deploymentId,
    userId: deployment.userId,
    projectId: deployment.projectId,
    status,
    previousStatus: previousStatus === undefined ? previousStatusOf(deployment) : previousStatus,
    step: STEP_OF_STATUS[status] ?? (status === 'FAILED' ? (deployment.error?.step ?? null) : null),
    sandboxId: deployment.sandboxId ?? null,
    url: status === 'RUNNING' ? (deployment.appUrl ?? null) : null,
    error: status === 'FAILED' ? (deployment.error ?? null) : null,
    replacedBy: deployment.replacedBy ?? null,
    version: deployment.version,
    time: deployment.timestamps[status] ?? deployment.updatedAt,
  };
}

export function previousStatusOf(deployment: Pick<Deployment, 'status' | 'timestamps'>): DeploymentStatus | null {
  const entered = (Object.entries(deployment.timestamps) as [DeploymentStatus, string][])
    .filter(([status]) => status !== deployment.status)
    .sort(([statusA, timeA], [statusB, timeB]) => timeA.localeCompare(timeB) || DEPLOYMENT_STATUSES.indexOf(statusA) - DEPLOYMENT_STATUSES.indexOf(statusB));
  return entered.at(-1)?.[0] ?? null;
}
