/**
 * Scheduled sweep (EventBridge Scheduler, every 5 minutes by default): reaps expired, stuck and
 * orphaned sandboxes and marks lost ones. Stops well before the Lambda timeout; the next run
 * carries on.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { runSweep } from '../shared/deployments/sweep/run-sweep.ts';
import { SWEEP_PHASES } from '../shared/deployments/sweep/sweep-report.ts';
import { DEFAULT_SWEEP_OPTIONS, type SweepOptions } from '../shared/deployments/sweep/sweep-options.ts';
import { uploadSettingsFromEnvironment } from '../shared/deployments/manifest/manifest-limits.ts';
import { deploymentRepository, quotaStore, sandboxOwnership, sweepBookkeeping } from '../shared/runtime/deployments-table.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { fileStaging, logArchive } from '../shared/runtime/staging-bucket.ts';
import { sagaWorkflows } from '../shared/runtime/workflows.ts';
import { numberEnv } from '../shared/runtime/environment.ts';
import { withInvocationDeadline } from '../shared/runtime/invocation-deadline.ts';
import { logger, metrics } from '../shared/runtime/observability.ts';

/** Time kept back from the Lambda timeout for the last item and the report. */
const SAFETY_MARGIN_MS = 15_000;

/**
 * SWEEP_STUCK_AFTER_SECONDS, when set, is the deadline of every saga step; a manifest deployment
 * awaits its upload for UPLOAD_DEADLINE_SECONDS (the API gives its clients the same deadline).
 */
function stuckAfterSeconds(): SweepOptions['stuckAfterSeconds'] {
  const all = numberEnv('SWEEP_STUCK_AFTER_SECONDS', Number.NaN);
  const steps = Number.isNaN(all)
    ? DEFAULT_SWEEP_OPTIONS.stuckAfterSeconds
    : Object.fromEntries(Object.keys(DEFAULT_SWEEP_OPTIONS.stuckAfterSeconds).map((status) => [status, all]));
  return { ...steps, AWAITING_UPLOAD: uploadSettingsFromEnvironment().deadlineSeconds };
}

export const handler = middy(
  withInvocationDeadline(async (_event: unknown, context: Context) => {
    const budgetMs = Math.max(1_000, context.getRemainingTimeInMillis() - SAFETY_MARGIN_MS);
    const report = await runSweep(
      {
        deployments: deploymentRepository(),
        sandboxes: sandboxProvider(),
        staging: fileStaging(),
        logArchive: logArchive(),
        workflows: sagaWorkflows(),
        bookkeeping: sweepBookkeeping(),
        ownership: sandboxOwnership(),
        quotas: quotaStore(),
        onError: (phase, error, subject) => logger.error('sweep item failed', { phase, subject, error: error as Error }),
      },
      {
        budgetMs,
        orphanGraceSeconds: numberEnv('SWEEP_ORPHAN_GRACE_SECONDS', DEFAULT_SWEEP_OPTIONS.orphanGraceSeconds),
        inFlightGraceSeconds: numberEnv('SWEEP_IN_FLIGHT_GRACE_SECONDS', DEFAULT_SWEEP_OPTIONS.inFlightGraceSeconds),
        maxItemsPerPhase: numberEnv('SWEEP_MAX_ITEMS_PER_PHASE', 500),
        healthGraceSeconds: numberEnv('SWEEP_HEALTH_GRACE_SECONDS', DEFAULT_SWEEP_OPTIONS.healthGraceSeconds),
        stuckAfterSeconds: stuckAfterSeconds(),
      },
    );
    for (const phase of SWEEP_PHASES) {
      const counts = report.phases[phase];
      const single = metrics.singleMetric();
      single.addDimension('phase', phase);
      single.addMetric('SweepExamined', MetricUnit.Count, counts.examined);
      single.addMetric('SweepKilled', MetricUnit.Count, counts.killed);
      single.addMetric('SweepMarked', MetricUnit.Count, counts.marked);
      single.addMetric('SweepErrors', MetricUnit.Count, counts.errors);
    }
    metrics.addMetric('SweepErrors', MetricUnit.Count, report.totals.errors);
    metrics.addMetric('OrphansKilled', MetricUnit.Count, report.phases.orphans.killed);
    logger.info('sweep done', { ...report });
    return report;
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics));
