import type { DeploymentStatus } from '../deployment-status.ts';

export interface SweepOptions {
  /** Stop starting new work when this much time is left of the run's budget. */
  budgetMs: number;
  /** Upper bound for the records or sandboxes one phase looks at per run. */
  maxItemsPerPhase: number;
  /** Records per query page. */
  pageSize: number;
  /** A sandbox younger than this is never judged an orphan (its record may be on its way). */
  orphanGraceSeconds: number;
  /**
   * A record in flight whose execution is not running (it ended, or never existed) is stuck once
   * it is older than this: the time the API needs between recording a deployment and starting
   * its execution. No step deadline is waited for.
   */
  inFlightGraceSeconds: number;
  /** How long a step may take before a record in it counts as stuck even while its execution runs. */
  stuckAfterSeconds: Partial<Record<DeploymentStatus, number>>;
  /** Extra time past the health deadline before CHECKING_HEALTH counts as stuck. */
  healthGraceSeconds: number;
  /** Lifetime of a kill claim: two concurrent sweeps never kill the same orphan twice. */
  claimSeconds: number;
}

export const DEFAULT_SWEEP_OPTIONS: SweepOptions = {
  budgetMs: 45_000,
  maxItemsPerPhase: 500,
  pageSize: 100,
  orphanGraceSeconds: 120,
  inFlightGraceSeconds: 60,
  // Beyond the state machine's task timeouts and retries for each step.
  // AWAITING_UPLOAD: the upload deadline (the API's UPLOAD_DEADLINE_SECONDS; its URLs expire then).
  stuckAfterSeconds: { AWAITING_UPLOAD: 3_600, PENDING: 120, CREATING: 600, UPLOADING: 1_200, STARTING: 900, CHECKING_HEALTH: 300 },
  healthGraceSeconds: 120,
  claimSeconds: 600,
};
