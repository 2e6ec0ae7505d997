/** Saga step: probe the app through its port URL until healthy, within this invocation's time. */
import * as z from 'zod';
import { checkHealth } from '../shared/deployments/steps/check-health.ts';
import { stepHandler } from '../shared/middleware/step-handler.ts';
import { deploymentRepository, quotaStore } from '../shared/runtime/deployments-table.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { fileStaging } from '../shared/runtime/staging-bucket.ts';
import { METRIC, metrics } from '../shared/runtime/observability.ts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';

const healthEvent = z.object({ deploymentId: z.string().min(1), executionArn: z.string().optional() });

export const handler = stepHandler('health', healthEvent, async ({ deploymentId }, context) => {
  const result = await checkHealth({ deployments: deploymentRepository(), sandboxes: sandboxProvider(), staging: fileStaging(), quotas: quotaStore() }, deploymentId, {
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
  if (result.becameRunning) metrics.addMetric(METRIC.deploymentsSucceeded, MetricUnit.Count, 1);
  return result;
});
