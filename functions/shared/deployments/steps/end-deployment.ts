/**
 * Ending a deployment that may still have a sandbox, by any path (cleanup, DELETE, the sweep):
 * 1. save its logs from the sandbox (best effort), so a user can still read why it ended;
 * 2. kill its sandbox, and any other carrying its id;
 * 3. record the terminal status: a deployment shows FAILED, TERMINATED or EXPIRED only once its
 *    sandbox is gone;
 * 4. kill a sandbox the record names that step 2 did not (a create that finished in between);
 * 5. delete its staged files.
 * A deployment whose sandbox a redeploy took over (replacedBy) hands it on untouched.
 */
import type { Deployment } from '../deployment.ts';
import type { DeploymentStatus } from '../deployment-status.ts';
import { nowOf, type Uses } from '../dependencies.ts';
import { IllegalTransitionError } from '../errors.ts';
import { DEFAULT_APP_LOG_GLOB } from '../logs/app-log-glob.ts';
import { collectLogs } from '../logs/collect-logs.ts';
import type { TransitionChanges } from '../ports.ts';
import { killDeploymentSandboxes } from './kill-deployment-sandboxes.ts';
import { releaseQuotaSlots } from '../quotas/deployment-quotas.ts';

/** What ending a deployment touches: its record, its sandbox, its staged files and its saved logs. */
export type EndingPorts = 'deployments' | 'sandboxes' | 'staging' | 'logArchive' | 'ownership' | 'quotas';

export type EndStatus = Extract<DeploymentStatus, 'FAILED' | 'TERMINATED' | 'EXPIRED'>;

export interface EndDeploymentInput {
  /** The record as the caller read it. */
  deployment: Deployment;
  to: EndStatus;
  changes?: TransitionChanges;
  /** Record only if the record is still exactly as read (the sweep); otherwise from any legal status. */
  onlyIfUnchanged?: boolean;
  /** Of concurrent enders (two sweeps), only the one this answers true for acts. */
  claim?: () => Promise<boolean>;
}

export interface EndDeploymentResult {
  /** The record after the write; undefined when it was not ours to write (changed, or already terminal). */
  ended?: Deployment;
  killedSandboxes: string[];
}

const SAVED_LOG_LINES = 1000;
const LOG_SAVE_TIMEOUT_MS = 10_000;

export async function endDeployment(dependencies: Uses<EndingPorts>, input: EndDeploymentInput): Promise<EndDeploymentResult> {
  const { deployment, to } = input;
  if (input.onlyIfUnchanged && !(await isUnchanged(dependencies, deployment))) return { killedSandboxes: [] };
  if (input.claim && !(await input.claim())) return { killedSandboxes: [] };
  const handedOn = deployment.replacedBy !== undefined;
  if (!handedOn && deployment.sandboxId) await saveLogs(dependencies, deployment, to);
  const killedSandboxes = handedOn ? [] : await killDeploymentSandboxes(dependencies, deployment.deploymentId, deployment);

  const ended = await record(dependencies, input);
  // A sandbox the record came to name while we killed (a create step that finished just then).
  if (ended?.sandboxId && !ended.replacedBy && !killedSandboxes.includes(ended.sandboxId)) {
    killedSandboxes.push(...(await killDeploymentSandboxes(dependencies, deployment.deploymentId, { sandboxId: ended.sandboxId })));
  }
  if (!handedOn) await dependencies.staging.deleteAll(deployment.deploymentId).catch(() => undefined);
  // Ended, by us or by whoever ended it meanwhile: nothing of its quota is held any more.
  if (ended || handedOn) await releaseQuotaSlots(dependencies, ended ?? deployment, ['deploymentsInFlight', ...(handedOn ? [] : (['liveSandboxes'] as const))]);
  return { ...(ended ? { ended } : {}), killedSandboxes };
}

/** Checked again right before the kill: a keep-alive or a redeploy may have changed it since it was read. */
async function isUnchanged(dependencies: Uses<'deployments'>, deployment: Deployment): Promise<boolean> {
  const current = await dependencies.deployments.get(deployment.deploymentId);
  return current?.version === deployment.version && current.status === deployment.status;
}

async function record(dependencies: Uses<'deployments'>, { deployment, to, changes, onlyIfUnchanged }: EndDeploymentInput): Promise<Deployment | undefined> {
  const { deployments } = dependencies;
  if (onlyIfUnchanged) return deployments.transitionFrom(deployment.deploymentId, deployment, to, changes);
  try {
    return await deployments.transition(deployment.deploymentId, to, changes);
  } catch (error) {
    // Someone else ended it meanwhile (terminated, expired): their status stands.
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
