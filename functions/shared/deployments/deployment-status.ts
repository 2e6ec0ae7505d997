/**
 * A deployment's life: the saga moves it forward one step at a time; any step can fail it; a
 * caller can terminate it; the sweep can expire it or find its sandbox lost. Terminal states
 * never change again.
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
  'FAILED',
  'TERMINATED',
  'EXPIRED',
  'LOST',
] as const;

export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const TERMINAL_STATUSES: ReadonlySet<DeploymentStatus> = new Set(['FAILED', 'TERMINATED', 'EXPIRED', 'LOST']);

/** The saga is still working on these: a record that stays in one too long is stuck. */
export const IN_FLIGHT_STATUSES: ReadonlySet<DeploymentStatus> = new Set(['AWAITING_UPLOAD', 'PENDING', 'CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH']);

/** Statuses in which a sandbox may exist and costs money. */
export const ACTIVE_STATUSES: ReadonlySet<DeploymentStatus> = new Set(['CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING']);

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
  // Completed (checked against the manifest), refused past its deadline, or deleted.
  AWAITING_UPLOAD: ['PENDING', 'FAILED', 'TERMINATED'],
  PENDING: ['CREATING', 'FAILED', 'TERMINATED'],
  // A sandbox can reach the end of its lifetime at any step (the sweep records it).
  CREATING: ['UPLOADING', 'FAILED', 'TERMINATED', 'EXPIRED'],
  UPLOADING: ['STARTING', 'FAILED', 'TERMINATED', 'EXPIRED'],
  STARTING: ['CHECKING_HEALTH', 'FAILED', 'TERMINATED', 'EXPIRED'],
  CHECKING_HEALTH: ['RUNNING', 'FAILED', 'TERMINATED', 'EXPIRED'],
  RUNNING: ['TERMINATED', 'EXPIRED', 'LOST'],
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
