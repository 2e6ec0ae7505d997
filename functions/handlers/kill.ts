/**
 * The saga's compensating step (every Catch leads here): kill the sandbox, if one exists, and
 * record FAILED with the failed step and its cause.
 */
import * as z from 'zod';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DEPLOYMENT_STEPS } from '../shared/deployments/deployment-status.ts';
import { killFailedDeployment } from '../shared/deployments/steps/kill-failed-deployment.ts';
import { stepHandler } from '../shared/middleware/step-handler.ts';
import { deploymentRepository, quotaStore, sandboxOwnership } from '../shared/runtime/deployments-table.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { fileStaging, logArchive } from '../shared/runtime/staging-bucket.ts';
import { METRIC, metrics } from '../shared/runtime/observability.ts';

const killEvent = z.object({
  deploymentId: z.string().min(1),
  executionArn: z.string().optional(),
  failedStep: z.enum([...DEPLOYMENT_STEPS, 'submit', 'kill', 'sweep']),
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});

export const handler = stepHandler('kill', killEvent, async (event) => {
  const result = await killFailedDeployment({ deployments: deploymentRepository(), sandboxes: sandboxProvider(), staging: fileStaging(), logArchive: logArchive(), ownership: sandboxOwnership(), quotas: quotaStore() }, event);
  // A deployment the caller terminated meanwhile did not fail.
  if (result.recorded) {
    metrics.addDimension('failedStep', event.failedStep);
    metrics.addMetric(METRIC.deploymentsFailed, MetricUnit.Count, 1);
  }
  return result;
});
