import type { DeploymentStatus, DeploymentStep, EndStatus } from './deployment-status.ts';
import type { BuildPlan } from './build-plan/build-plan.ts';
import type { DependencyArchiveFormat } from './dependency-cache/archive-format.ts';

/** Why a deployment failed: the step, the error's stable name and a readable message. */
export interface DeploymentFailure {
  step: DeploymentStep | 'submit' | 'kill' | 'sweep';
  name: string;
  message: string;
}

/**
 * How the app runs, as the deployment uses it: the caller's options with the plan's choices
 * filled in (env lives in the staged manifest only).
 */
export interface AppOptions {
  port: number;
  installCommand?: string;
  buildCommand?: string;
  startCommand: string;
  healthPath: string;
  timeoutSeconds: number;
}

/** A manifest deployment's transfer: what was uploaded, what the sandbox gets. */
export interface UploadSummary {
  /** The deployment is refused (and ended by the sweep) if not completed by then. */
  deadline: string;
  filesInManifest: number;
  blobsToUpload: number;
  bytesToUpload: number;
  /** Bytes the service already held for the owner, not uploaded again. */
  bytesHeld: number;
  parts: number;
  /** Set at completion: what goes into the sandbox. */
  filesToWrite?: number;
  bytesToWrite?: number;
  filesUnchanged?: number;
  filesRemoved?: number;
  /** A redeploy that changes only what differs from what the sandbox holds. */
  incremental?: boolean;
}

/**
 * How a deployment's dependencies got into its sandbox (set by the start step): restored from
 * the owner's dependency cache, installed, or kept from the previous deployment of a redeploy.
 */
export interface DependencyOutcome {
  /** The cache key (sha256 hex) of this install, or null when the install is not cached. */
  key: string | null;
  source: 'cache' | 'installed' | 'kept-from-previous-deployment';
  /**
   * hit: restored from an archive; miss: none stored yet; unreadable: an archive could not be
   * restored, so they were installed; kept: a redeploy's sandbox already had them; off: not cached.
   */
  cache: 'hit' | 'miss' | 'unreadable' | 'kept' | 'off';
  /** What happened, as the logs say it (e.g. "dependencies restored from cache ..."). */
  message: string;
  /** The lockfile the key covers. */
  lockfile?: string;
  /** The archive restored or being saved. */
  archive?: { format: DependencyArchiveFormat; bytes?: number };
  /** True when an archive of this install is being saved in the background. */
  saving?: boolean;
  /** How long the restore (or the install) took. */
  durationMs?: number;
}

/** One record per deployment, with its sandbox. */
export interface Deployment {
  deploymentId: string;
  userId: string;
  projectId: string;
  status: DeploymentStatus;
  /** Incremented by every write; lets writers detect that someone else moved the record. */
  version: number;
  options: AppOptions;
  /** How the app is installed, built, started and reached, with the reason for each choice. */
  plan?: BuildPlan;
  envNames: string[];
  filesTotal: number;
  bytesTotal: number;
  batchesTotal: number;
  /** Files written per batch index; a set-like map so a retried batch is not counted twice. */
  batchProgress: Record<string, number>;
  sandboxId?: string;
  /** When the provider ends the sandbox on its own. */
  expiresAt?: string;
  appUrl?: string;
  /** The path that answered when the app became healthy: the health path, or `/` when that was 404. */
  healthyPath?: string;
  appPid?: number;
  healthDeadline?: string;
  executionArn?: string;
  /**
   * A redeploy: the deployment whose live sandbox this one takes over, that sandbox, and the app
   * it replaces. The record names the sandbox as its own (`sandboxId`) only once it took it over.
   */
  reusedFrom?: { deploymentId: string; sandboxId: string; expiresAt?: string; appPid?: number };
  /** The quota slots it holds, given back when it ends (and the in-flight one when it runs). */
  quotaSlots?: { liveSandboxes?: number; deploymentsInFlight?: number };
  /** When its sandbox was created (a redeploy keeps the first one's): bounds its lifetime. */
  sandboxCreatedAt?: string;
  /** A manifest deployment (absent for inline contents). */
  upload?: UploadSummary;
  /** How its dependencies got into the sandbox (set by the start step when the plan installs). */
  dependencies?: DependencyOutcome;
  /** Set on a deployment whose sandbox a later redeploy took over. */
  replacedBy?: string;
  error?: DeploymentFailure;
  /** While STOPPING: the status it ends in once its sandbox is gone. */
  ending?: { to: EndStatus };
  /** Where each status change is POSTed as a signed webhook (options.callbackUrl of the request). */
  callbackUrl?: string;
  /** When each status was entered. */
  timestamps: Partial<Record<DeploymentStatus, string>>;
  createdAt: string;
  updatedAt: string;
}

export function filesUploaded(deployment: Pick<Deployment, 'batchProgress'>): number {
  return Object.values(deployment.batchProgress).reduce((sum, count) => sum + count, 0);
}
