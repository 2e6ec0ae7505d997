/**
 * What deployment code needs from the outside world, in its own terms. Adapters implement these
 * with DynamoDB, S3 and Step Functions.
 */
import type { Deployment } from './deployment.ts';
import type { DependencyArchiveFormat } from './dependency-cache/archive-format.ts';
import type { DeploymentStatus } from './deployment-status.ts';
import type { LogEntry } from './logs/log-entry.ts';
import type { QuotaLimits, SlotQuota } from './quotas/quota-limits.ts';

export interface NewDeployment extends Omit<Deployment, 'version' | 'timestamps' | 'updatedAt' | 'batchProgress'> {}

/** Fields a status change (or a plain update) may set along with it. */
export type TransitionChanges = Partial<
  Pick<
    Deployment,
    | 'sandboxId'
    | 'expiresAt'
    | 'appUrl'
    | 'healthyPath'
    | 'appPid'
    | 'healthDeadline'
    | 'executionArn'
    | 'error'
    | 'replacedBy'
    | 'options'
    | 'plan'
    | 'quotaSlots'
    | 'sandboxCreatedAt'
    | 'ending'
    // Set when a manifest deployment's upload completes.
    | 'reusedFrom'
    | 'upload'
    // Set by the start step: how the dependencies got into the sandbox.
    | 'dependencies'
    | 'filesTotal'
    | 'batchesTotal'
  >
>;

export interface OwnerQuery {
  projectId?: string;
  statuses?: readonly DeploymentStatus[];
  limit?: number;
  nextToken?: string;
}

export interface DeploymentPage {
  items: Deployment[];
  nextToken?: string;
}

/** The status and version a conditional write expects to find. */
export interface ExpectedState {
  status: DeploymentStatus;
  version: number;
}

export interface DeploymentRepository {
  /** Stores a new deployment in PENDING; fails if the id exists. */
  create(deployment: NewDeployment): Promise<Deployment>;
  get(deploymentId: string): Promise<Deployment | undefined>;
  /**
   * Moves the deployment to `to` if its current status may legally precede it, applying
   * `changes` in the same conditional write. Returns the new record.
   * IllegalTransitionError if the record is in a status `to` cannot follow.
   */
  transition(deploymentId: string, to: DeploymentStatus, changes?: TransitionChanges): Promise<Deployment>;
  /**
   * Moves the deployment to `to` only if it is still exactly as `expected` (status and version):
   * undefined when anyone changed it in between. The sweep uses it so that of two racing
   * writers exactly one acts.
   */
  transitionFrom(deploymentId: string, expected: ExpectedState, to: DeploymentStatus, changes?: TransitionChanges): Promise<Deployment | undefined>;
  /** Records the sandbox's fields without a status change (e.g. the sandbox id as soon as it exists). */
  update(deploymentId: string, changes: TransitionChanges): Promise<Deployment>;
  /** Records that batch `index` wrote `files` files (idempotent per index). */
  recordBatch(deploymentId: string, index: number, files: number): Promise<void>;
  /** A caller's deployments, newest first, optionally of one project and in some statuses. */
  listByOwner(userId: string, options?: OwnerQuery): Promise<DeploymentPage>;
  /** A caller's deployments that may have a live sandbox, newest first (a sparse index: never their history). */
  listActiveByOwner(userId: string, options?: Omit<OwnerQuery, 'statuses'>): Promise<DeploymentPage>;
  /** Deployments with a live sandbox whose expiry is before `before`, soonest first. */
  listActiveExpiringBefore(before: Date, options?: { limit?: number; nextToken?: string }): Promise<DeploymentPage>;
  /** Deployments the saga works on whose current step started before `before`, oldest first. */
  listInFlightSince(before: Date, options?: { limit?: number; nextToken?: string }): Promise<DeploymentPage>;
}

/**
 * Which deployment a sandbox belongs to now. A sandbox starts with the deployment that created
 * it; a redeploy takes it over in one conditional write (the commit point of a redeploy). Only a
 * sandbox's owner may kill it.
 */
export interface SandboxOwnership {
  /** The owning deployment, or undefined when none was recorded (then its creator, from its metadata, owns it). */
  ownerOf(sandboxId: string): Promise<string | undefined>;
  /** Records the creator as the owner; a no-op when the sandbox already has one. */
  recordOwner(sandboxId: string, deploymentId: string, expiresAt: string): Promise<void>;
  /** Moves the sandbox from `from` to `to`; false when `from` does not own it (any more). */
  handOver(sandboxId: string, from: string, to: string): Promise<boolean>;
}

/** One held unit of a counted quota: slot `slot` of `quota`, held by a deployment. */
export interface HeldSlot {
  quota: SlotQuota;
  slot: number;
  holder: string;
  /** ISO time the holder took it. */
  heldAt: string;
}

/**
 * Per-user quotas with conditional writes only (no transactions): a counted quota is `limit`
 * slots that a deployment takes one of and gives back; starts are counted per minute.
 */
export interface QuotaStore {
  /** The limits an operator set for this user, if any. */
  limitsOverride(userId: string): Promise<Partial<QuotaLimits> | undefined>;
  /** Takes a free slot below `limit` for the deployment; undefined when all are held. */
  takeSlot(userId: string, quota: SlotQuota, limit: number, holder: string): Promise<number | undefined>;
  /** Gives the slot back if `holder` holds it; idempotent. */
  releaseSlot(userId: string, quota: SlotQuota, slot: number, holder: string): Promise<void>;
  /** Moves a held slot from one deployment to another (a redeploy keeps the sandbox it took over). */
  transferSlot(userId: string, quota: SlotQuota, slot: number, from: string, to: string): Promise<boolean>;
  heldSlots(userId: string, quota?: SlotQuota): Promise<HeldSlot[]>;
  /** Counts one start in `minute` if fewer than `limit` were counted; answers whether it counted and how many there are. */
  countStart(userId: string, minute: string, limit: number): Promise<{ counted: boolean; count: number }>;
  startsIn(userId: string, minute: string): Promise<number>;
}

/** What the sweep keeps between and during runs. */
export interface SweepBookkeeping {
  /** True for exactly one caller per name until the claim expires. */
  claim(name: string, ttlSeconds: number): Promise<boolean>;
  getCursor(name: string): Promise<string | undefined>;
  putCursor(name: string, cursor: string | undefined): Promise<void>;
}

export interface StagedFile {
  path: string;
  content: Buffer;
}

export interface StagedBatchRef {
  index: number;
  key: string;
  files: number;
  bytes: number;
  /** 'blobs': the batch lists files by their blob ranges (a manifest deployment), not contents. */
  source?: 'blobs';
}

export interface DeploymentManifest {
  deploymentId: string;
  env: Record<string, string>;
}

export interface FileStaging {
  putBatch(deploymentId: string, index: number, files: readonly StagedFile[]): Promise<StagedBatchRef>;
  getBatch(key: string): Promise<StagedFile[]>;
  putManifest(manifest: DeploymentManifest): Promise<void>;
  getManifest(deploymentId: string): Promise<DeploymentManifest>;
  deleteAll(deploymentId: string): Promise<void>;
}

/** One stored archive of an owner's installed dependencies. */
export interface DependencyCacheEntry {
  bytes: number;
}

/**
 * Installed dependencies (node_modules) kept per owner and cache key. The sandbox moves the
 * archive itself through presigned URLs: the caller never holds its bytes.
 */
export interface DependencyCache {
  /** The owner's entry for `key`, or undefined when there is none. */
  find(owner: string, key: string, format: DependencyArchiveFormat): Promise<DependencyCacheEntry | undefined>;
  /** A URL the sandbox GETs the archive from, valid for `expiresInSeconds`. */
  restoreUrl(owner: string, key: string, format: DependencyArchiveFormat, expiresInSeconds: number): Promise<string>;
  /** A URL the sandbox PUTs the archive to, valid for `expiresInSeconds`. */
  saveUrl(owner: string, key: string, format: DependencyArchiveFormat, expiresInSeconds: number): Promise<string>;
}

export type ExecutionState = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING_REDRIVE' | 'NOT_FOUND';

export interface WorkflowInput {
  deploymentId: string;
  batches: StagedBatchRef[];
}

export interface Workflows {
  /** Starts the deployment saga; idempotent per deployment id. Returns the execution's ARN. */
  start(input: WorkflowInput): Promise<string>;
  /** The execution's status; NOT_FOUND when Step Functions does not know it. */
  status(executionArn: string): Promise<ExecutionState>;
}

/** A deployment's logs, saved from its sandbox before the sandbox was killed. */
export interface SavedLogs {
  savedAt: string;
  /** Why the sandbox ended: the status it ended in. */
  endedAs: DeploymentStatus;
  lines: LogEntry[];
}

export interface LogArchive {
  save(deploymentId: string, logs: SavedLogs): Promise<void>;
  /** undefined when nothing was saved (or it expired). */
  load(deploymentId: string): Promise<SavedLogs | undefined>;
}
