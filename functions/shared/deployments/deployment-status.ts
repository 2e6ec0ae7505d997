/**
 * A deployment's life: the saga moves it forward one step at a time; any step can fail it; a
 * caller can terminate it; the sweep can expire it or find its sandbox lost. Ending it (failing,
 * terminating, expiring) passes through STOPPING while its sandbox is killed, so a terminal
 * status always means the sandbox is gone. Terminal states never change again.
 */
export const DEPLOYMENT_STATUSES = [
  // A manifest deployment waits here for its blobs (until the completion call or its deadline).
  'AWAITING_UPLOAD',
  'PENDING',
  'CREATING',
  'UPLOADING',
  'STARTING',
  'CHECKING_HEALTH',
  'RUNNING',
  'STOPPING',
  'FAILED',
  'TERMINATED',
  'EXPIRED',
  'LOST',
] as const;

export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<DeploymentStatus> = new Set(['FAILED', 'TERMINATED', 'EXPIRED', 'LOST']);

/**
 * Someone is working on these (an upload, the saga, or an ending under way): a record that stays
 * in one while nothing moves it on is stuck, and the sweep finishes it.
 */
export const IN_FLIGHT_STATUSES: ReadonlySet<DeploymentStatus> = new Set(['AWAITING_UPLOAD', 'PENDING', 'CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'STOPPING']);

/** A deployment on its way to RUNNING (what counts against "deployments in flight"). */
export const SAGA_STATUSES: ReadonlySet<DeploymentStatus> = new Set(['AWAITING_UPLOAD', 'PENDING', 'CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH']);

/** Statuses in which a sandbox may exist and costs money. */
export const ACTIVE_STATUSES: ReadonlySet<DeploymentStatus> = new Set(['CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING', 'STOPPING']);

/** The terminal statuses an ending passes STOPPING on its way to. */
export type EndStatus = Extract<DeploymentStatus, 'FAILED' | 'TERMINATED' | 'EXPIRED'>;

/** The saga's steps, as recorded in a failure and shown as "current step". */
export const DEPLOYMENT_STEPS = ['create', 'upload', 'start', 'health'] as const;
export type DeploymentStep = (typeof DEPLOYMENT_STEPS)[number];

export const STEP_OF_STATUS: Partial<Record<DeploymentStatus, DeploymentStep>> = {
  AWAITING_UPLOAD: 'upload',
  PENDING: 'create',
  CREATING: 'create',
  UPLOADING: 'upload',
  STARTING: 'start',
  CHECKING_HEALTH: 'health',
};

const LEGAL_TRANSITIONS: Record<DeploymentStatus, readonly DeploymentStatus[]> = {
  // Completed (checked against the manifest, then the saga starts), or stopped (its deadline, a DELETE).
  AWAITING_UPLOAD: ['PENDING', 'STOPPING'],
  PENDING: ['CREATING', 'STOPPING'],
  CREATING: ['UPLOADING', 'STOPPING'],
  UPLOADING: ['STARTING', 'STOPPING'],
  STARTING: ['CHECKING_HEALTH', 'STOPPING'],
  CHECKING_HEALTH: ['RUNNING', 'STOPPING'],
  // A redeploy hands the sandbox on (TERMINATED, nothing to kill); a vanished sandbox is LOST.
  RUNNING: ['STOPPING', 'TERMINATED', 'LOST'],
  // The sandbox is killed; then the ending is recorded.
  STOPPING: ['FAILED', 'TERMINATED', 'EXPIRED'],
  FAILED: [],
  TERMINATED: [],
  EXPIRED: [],
  LOST: [],
};

/** The statuses from which `to` may be reached. */
export function legalPredecessors(to: DeploymentStatus): DeploymentStatus[] {
  return DEPLOYMENT_STATUSES.filter((from) => LEGAL_TRANSITIONS[from].includes(to));
}

export function isLegalTransition(from: DeploymentStatus, to: DeploymentStatus): boolean {
  return LEGAL_TRANSITIONS[from].includes(to);
}

export function isTerminal(status: DeploymentStatus): boolean {
  return TERMINAL_STATUSES.has(status);
}
