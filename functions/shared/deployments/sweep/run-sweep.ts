/**
 * The sweep: a level-triggered reconciler that makes "no leaked sandbox, no stuck deployment"
 * hold whatever the saga missed. Four cases, each bounded per run:
 * - expired: live sandboxes past their expiry (active-by-expiry index) are killed, records EXPIRED;
 * - stuck: records in a saga step for longer than its deadline whose execution no longer runs are
 *   cleaned up and FAILED ("stuck in <step>");
 * - orphans: sandboxes with our metadata whose record is terminal, missing or names another
 *   sandbox are killed;
 * - lost: RUNNING records whose sandbox is gone at the provider are marked LOST.
 * Every change is a conditional write on the record's status and version, so concurrent sweeps
 * and running sagas never act twice or wrongly: whoever loses the write does nothing.
 */
import type { Deployment } from '../deployment.ts';
import { isTerminal, STEP_OF_STATUS } from '../deployment-status.ts';
import type { DeploymentDependencies } from '../dependencies.ts';
import { nowOf } from '../dependencies.ts';
import { MANAGED_BY } from '../app-layout.ts';
import type { SweepBookkeeping } from '../ports.ts';
import type { SandboxSummary } from '../../sandbox/sandbox-provider.ts';
import { endDeployment } from '../ending/end-deployment.ts';
import { releaseQuotaSlots } from '../quotas/deployment-quotas.ts';
import { DEFAULT_SWEEP_OPTIONS, type SweepOptions } from './sweep-options.ts';
import { emptyCounts, SWEEP_PHASES, totalsOf, type PhaseCounts, type SweepPhase, type SweepReport } from './sweep-report.ts';

/** The sweep never installs anything: every port but the dependency cache. */
export interface SweepDependencies extends Omit<DeploymentDependencies, 'dependencyCache'> {
  bookkeeping: SweepBookkeeping;
  /** Receives each failure the sweep absorbed (it goes on with the next item). */
  onError?: (phase: SweepPhase, error: unknown, subject: string) => void;
}

interface SweepRun {
  dependencies: SweepDependencies;
  options: SweepOptions;
  startedAt: number;
  truncated: boolean;
}

export async function runSweep(dependencies: SweepDependencies, overrides: Partial<SweepOptions> = {}): Promise<SweepReport> {
  const run: SweepRun = { dependencies, options: { ...DEFAULT_SWEEP_OPTIONS, ...overrides }, startedAt: Date.now(), truncated: false };
  const phases = Object.fromEntries(SWEEP_PHASES.map((phase) => [phase, emptyCounts()])) as Record<SweepPhase, PhaseCounts>;
  await reapExpired(run, phases.expired);
  await failStuck(run, phases.stuck);
  // One provider listing serves both: the orphans killed are never a RUNNING record's sandbox.
  const ours = await dependencies.sandboxes.list({ managedBy: MANAGED_BY });
  await killOrphans(run, phases.orphans, ours);
  await markLost(run, phases.lost, ours);
  return { phases, totals: totalsOf(phases), truncated: run.truncated, durationMs: Date.now() - run.startedAt };
}

function outOfBudget(run: SweepRun, counts: PhaseCounts): boolean {
  const exhausted = Date.now() - run.startedAt >= run.options.budgetMs || counts.examined >= run.options.maxItemsPerPhase;
  if (exhausted) run.truncated = true;
  return exhausted;
}

/** Runs `work` for one item, counting a failure instead of ending the run. */
async function guarded(run: SweepRun, phase: SweepPhase, counts: PhaseCounts, subject: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    counts.errors += 1;
    run.dependencies.onError?.(phase, error, subject);
  }
}

async function reapExpired(run: SweepRun, counts: PhaseCounts): Promise<void> {
  const { deployments } = run.dependencies;
  const now = nowOf(run.dependencies);
  // Handled records leave the index, so every run starts again from the oldest expiry.
  let nextToken: string | undefined;
  do {
    const page = await deployments.listActiveExpiringBefore(now, { limit: run.options.pageSize, nextToken });
    for (const deployment of page.items) {
      if (outOfBudget(run, counts)) return;
      counts.examined += 1;
      await guarded(run, 'expired', counts, deployment.deploymentId, async () => {
        const { ended, killedSandboxes } = await endDeployment(run.dependencies, {
          deployment,
          to: 'EXPIRED',
          onlyIfUnchanged: true,
        });
        counts.killed += killedSandboxes.length;
        if (ended) counts.marked += 1;
      });
    }
    nextToken = page.nextToken;
  } while (nextToken);
}

async function failStuck(run: SweepRun, counts: PhaseCounts): Promise<void> {
  const { deployments, workflows } = run.dependencies;
  const now = nowOf(run.dependencies);
  const youngest = Math.min(run.options.inFlightGraceSeconds, ...Object.values(run.options.stuckAfterSeconds));
  let nextToken: string | undefined;
  do {
    const page = await deployments.listInFlightSince(new Date(now.getTime() - youngest * 1000), { limit: run.options.pageSize, nextToken });
    for (const deployment of page.items) {
      if (outOfBudget(run, counts)) return;
      // A record awaiting its upload has no execution by design: only its deadline counts.
      const pastGrace = deployment.status === 'AWAITING_UPLOAD' || age(deployment, now) > run.options.inFlightGraceSeconds * 1000;
      if (!pastGrace) continue;
      counts.examined += 1;
      await guarded(run, 'stuck', counts, deployment.deploymentId, async () => {
        if (deployment.status === 'STOPPING') {
          // Its ender died between claiming the ending and recording it: finish that ending.
          const { ended, killedSandboxes } = await endDeployment(run.dependencies, { deployment, to: deployment.ending?.to ?? 'FAILED' });
          counts.killed += killedSandboxes.length;
          if (ended) counts.marked += 1;
          return;
        }
        if (deployment.status === 'AWAITING_UPLOAD') {
          // No execution runs it until the upload completes: it is stuck only past its upload deadline.
          if (!isPastStepDeadline(deployment, now, run.options)) return;
          const { ended, killedSandboxes } = await endDeployment(run.dependencies, {
            deployment,
            to: 'FAILED',
            changes: {
              error: {
                step: 'upload',
                name: 'UploadExpiredError',
                message: 'the upload was not completed before its deadline; deploy again (held files are not uploaded twice)',
              },
            },
            onlyIfUnchanged: true,
          });
          counts.killed += killedSandboxes.length;
          if (ended) counts.marked += 1;
          return;
        }
        // No execution, or one that ended: nothing will move this record on, so it fails now.
        const execution = deployment.executionArn ? await workflows.status(deployment.executionArn) : 'NOT_FOUND';
        if (execution === 'RUNNING' && !isPastStepDeadline(deployment, now, run.options)) return;
        const step = STEP_OF_STATUS[deployment.status] ?? 'create';
        const why = execution === 'RUNNING' ? `past its deadline` : execution === 'NOT_FOUND' ? 'no execution runs it' : `its execution ${execution.toLowerCase().replace('_', ' ')}`;
        const { ended, killedSandboxes } = await endDeployment(run.dependencies, {
          deployment,
          to: 'FAILED',
          changes: { error: { step, name: 'DeploymentStuckError', message: `stuck in ${step}: ${why}` } },
          onlyIfUnchanged: true,
        });
        counts.killed += killedSandboxes.length;
        if (ended) counts.marked += 1;
      });
    }
    nextToken = page.nextToken;
  } while (nextToken);
}

/** How long the record has been in its current step. */
function age(deployment: Deployment, now: Date): number {
  const since = deployment.timestamps[deployment.status] ?? deployment.updatedAt;
  return now.getTime() - new Date(since).getTime();
}

/** Past the step's own deadline, or past the health deadline plus grace; the caller also checks that no execution runs. */
function isPastStepDeadline(deployment: Deployment, now: Date, options: SweepOptions): boolean {
  const healthOver =
    deployment.status === 'CHECKING_HEALTH' &&
    deployment.healthDeadline !== undefined &&
    now.getTime() > new Date(deployment.healthDeadline).getTime() + options.healthGraceSeconds * 1000;
  const uploadOver = deployment.status === 'AWAITING_UPLOAD' && deployment.upload !== undefined && now.getTime() > new Date(deployment.upload.deadline).getTime();
  const limit = options.stuckAfterSeconds[deployment.status];
  const since = deployment.timestamps[deployment.status] ?? deployment.updatedAt;
  return healthOver || uploadOver || (limit !== undefined && now.getTime() - new Date(since).getTime() > limit * 1000);
}

async function killOrphans(run: SweepRun, counts: PhaseCounts, ours: readonly SandboxSummary[]): Promise<void> {
  const { deployments, sandboxes, bookkeeping, ownership } = run.dependencies;
  const now = nowOf(run.dependencies).getTime();
  for (const sandbox of ours) {
    if (outOfBudget(run, counts)) return;
    counts.examined += 1;
    if (now - sandbox.startedAt.getTime() < run.options.orphanGraceSeconds * 1000) continue;
    await guarded(run, 'orphans', counts, sandbox.sandboxId, async () => {
      // Its owner now: a redeploy that took it over, else its creator (from its metadata).
      const ownerId = (await ownership.ownerOf(sandbox.sandboxId)) ?? sandbox.metadata.deploymentId;
      const record = ownerId ? await deployments.get(ownerId) : undefined;
      const orphaned = !record || isTerminal(record.status) || (record.sandboxId !== undefined && record.sandboxId !== sandbox.sandboxId);
      if (!orphaned) return;
      // Of concurrent sweeps, only the one holding the claim kills.
      if (!(await bookkeeping.claim(`kill-orphan#${sandbox.sandboxId}`, run.options.claimSeconds))) return;
      // Listed before its deployment ended: whoever ended it killed it first (ends record after the kill).
      if (!(await sandboxes.isAlive(sandbox.sandboxId))) return;
      await sandboxes.kill(sandbox.sandboxId);
      counts.killed += 1;
    });
  }
}

async function markLost(run: SweepRun, counts: PhaseCounts, ours: readonly SandboxSummary[]): Promise<void> {
  const { deployments, sandboxes, bookkeeping } = run.dependencies;
  const live = new Set(ours.map((sandbox) => sandbox.sandboxId));
  // Every active record, in pages; a long table is covered over several runs.
  const far = new Date('9999-12-31T00:00:00Z');
  let nextToken = await bookkeeping.getCursor('lost');
  do {
    const page = await deployments.listActiveExpiringBefore(far, { limit: run.options.pageSize, nextToken });
    for (const deployment of page.items) {
      if (outOfBudget(run, counts)) {
        await bookkeeping.putCursor('lost', nextToken);
        return;
      }
      if (deployment.status !== 'RUNNING' || !deployment.sandboxId || live.has(deployment.sandboxId)) continue;
      counts.examined += 1;
      await guarded(run, 'lost', counts, deployment.deploymentId, async () => {
        // The list can miss a sandbox (the SDK reads an error without body as an empty list):
        // ask about this one before believing it gone.
        if (await sandboxes.isAlive(deployment.sandboxId!)) return;
        const lost = await deployments.transitionFrom(deployment.deploymentId, deployment, 'LOST', {
          error: { step: 'sweep', name: 'SandboxLostError', message: `sandbox ${deployment.sandboxId} is gone at the provider` },
        });
        if (!lost) return;
        counts.marked += 1;
        await releaseQuotaSlots(run.dependencies, lost);
      });
    }
    nextToken = page.nextToken;
  } while (nextToken);
  await bookkeeping.putCursor('lost', undefined);
}
