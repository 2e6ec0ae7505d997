/**
 * Ending a deployment that may still have a sandbox, by any path (the kill step, DELETE, the sweep):
 * 1. record STOPPING with the status it ends in: the claim (of concurrent enders, one wins a
 *    conditional write; the others finish the same ending), and a visible "not RUNNING, not
 *    gone yet" that no saga step, keep-alive or sweep phase acts on;
 * 2. save its logs from the sandbox (best effort), so a user can still read why it ended;
 * 3. kill the sandboxes it owns;
 * 4. record the terminal status: FAILED, TERMINATED or EXPIRED always means the sandbox is gone;
 * 5. delete its staged files and give its quota back.
 * A record left STOPPING by a crash is finished by the sweep (it is in flight).
 */
import type { Deployment } from '../deployment.ts';
import type { EndStatus } from '../deployment-status.ts';
import { isTerminal } from '../deployment-status.ts';
import { nowOf, type Uses } from '../dependencies.ts';
import { IllegalTransitionError } from '../errors.ts';
import { DEFAULT_APP_LOG_GLOB } from '../logs/app-log-glob.ts';
import { collectLogs } from '../logs/collect-logs.ts';
import type { TransitionChanges } from '../ports.ts';
import { releaseQuotaSlots } from '../quotas/deployment-quotas.ts';
import { killDeploymentSandboxes } from './kill-deployment-sandboxes.ts';

export type { EndStatus } from '../deployment-status.ts';

/** What ending a deployment touches: its record, its sandbox, its staged files, its saved logs, its quota. */
export type EndingPorts = 'deployments' | 'sandboxes' | 'staging' | 'logArchive' | 'ownership' | 'quotas';

export interface EndDeploymentInput {
  /** The record as the caller read it. */
  deployment: Deployment;
  to: EndStatus;
  /** Recorded with the terminal status (e.g. the failure). */
  changes?: TransitionChanges;
  /** End it only if the record is still exactly as read (the sweep: another actor may have moved it). */
  onlyIfUnchanged?: boolean;
}

export interface EndDeploymentResult {
  /** The terminal record; undefined when it was not ours to end (changed, or ended by someone else). */
  ended?: Deployment;
  killedSandboxes: string[];
}

const SAVED_LOG_LINES = 1000;
const LOG_SAVE_TIMEOUT_MS = 10_000;

export async function endDeployment(dependencies: Uses<EndingPorts>, input: EndDeploymentInput): Promise<EndDeploymentResult> {
  const stopping = await claimEnding(dependencies, input);
  if (!stopping) return { killedSandboxes: [] };
  // A deployment already STOPPING ends as its first ender said.
  const to = stopping.ending?.to ?? input.to;
  if (stopping.sandboxId) await saveLogs(dependencies, stopping, to);
  const killedSandboxes = await killDeploymentSandboxes(dependencies, stopping.deploymentId, stopping);

  // The cause went with the claim: a later ender (a retried Kill step, the sweep) keeps the first one's.
  const ended = await recordEnd(dependencies, stopping.deploymentId, to);
  await dependencies.staging.deleteAll(stopping.deploymentId).catch(() => undefined);
  if (ended) await releaseQuotaSlots(dependencies, ended);
  return { ...(ended ? { ended } : {}), killedSandboxes };
}

/** STOPPING, by this call or an earlier one; undefined when the record is not ours to end. */
async function claimEnding(dependencies: Uses<'deployments'>, { deployment, to, changes, onlyIfUnchanged }: EndDeploymentInput): Promise<Deployment | undefined> {
  const { deployments } = dependencies;
  if (deployment.status === 'STOPPING') return deployment;
  if (isTerminal(deployment.status)) return undefined;
  // The cause goes with the claim: a crash before the end is recorded does not lose it.
  const claim = { ...changes, ending: { to } };
  if (onlyIfUnchanged) return deployments.transitionFrom(deployment.deploymentId, deployment, 'STOPPING', claim);
  try {
    return await deployments.transition(deployment.deploymentId, 'STOPPING', claim);
  } catch (error) {
    if (!(error instanceof IllegalTransitionError)) throw error;
    // Someone else is ending it (finish their ending), or it has ended already.
    const current = await deployments.get(deployment.deploymentId);
    return current?.status === 'STOPPING' ? current : undefined;
  }
}

async function recordEnd(dependencies: Uses<'deployments'>, deploymentId: string, to: EndStatus): Promise<Deployment | undefined> {
  try {
    return await dependencies.deployments.transition(deploymentId, to);
  } catch (error) {
    // A concurrent ender recorded it first: their record stands.
    if (error instanceof IllegalTransitionError) return undefined;
    throw error;
  }
}

/**
 * The logs of every source, npm's debug log included for failures, saved where the logs API
 * finds them once the sandbox is gone. A sandbox that no longer answers has nothing to save.
 */
async function saveLogs(dependencies: Uses<'sandboxes' | 'logArchive'>, deployment: Deployment, to: EndStatus): Promise<void> {
  try {
    const sandbox = await dependencies.sandboxes.connect(deployment.sandboxId!);
    const lines = await collectLogs(sandbox, {
      lines: SAVED_LOG_LINES,
      includeNpmDebug: to === 'FAILED',
      appLogGlob: DEFAULT_APP_LOG_GLOB,
      timeoutMs: LOG_SAVE_TIMEOUT_MS,
    });
    if (lines.length === 0) return;
    await dependencies.logArchive.save(deployment.deploymentId, { savedAt: nowOf(dependencies).toISOString(), endedAs: to, lines });
  } catch {
    // Best effort: ending the deployment matters more than its logs.
  }
}
