/** Saga step: probe the app through its port URL until healthy, within this invocation's time. */
import { z } from 'zod';
import { checkHealth } from '../shared/deployments/steps/check-health.ts';
import { stepHandler } from '../shared/middleware/step-handler.ts';
import { deploymentDependencies } from '../shared/runtime/dependencies.ts';
import { METRIC, metrics } from '../shared/runtime/observability.ts';
import { MetricUnit } from '@aws-lambda-powertools/metrics';

const healthEvent = z.object({ deploymentId: z.string().min(1), executionArn: z.string().optional() });

export const handler = stepHandler('health', healthEvent, async ({ deploymentId }, context) => {
  const result = await checkHealth(await deploymentDependencies(), deploymentId, {
    remainingMs: () => context.getRemainingTimeInMillis(),
  });
  if (result.becameRunning) metrics.addMetric(METRIC.deploymentsSucceeded, MetricUnit.Count, 1);
  return result;
});
