/**
 * EventBridge rule target for "Step Functions Execution Status Change" (FAILED, TIMED_OUT,
 * ABORTED): cleans up the deployment even when no Catch ran.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { killAfterExecution } from '../shared/deployments/ending/kill-after-execution.ts';
import { validateEvent } from '../shared/middleware/validate-event.ts';
import { deploymentRepository, quotaStore, sandboxOwnership } from '../shared/runtime/deployments-table.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { fileStaging, logArchive } from '../shared/runtime/staging-bucket.ts';
import { withInvocationDeadline } from '../shared/runtime/invocation-deadline.ts';
import { logger } from '../shared/runtime/observability.ts';

const statusChangeEvent = z.object({
  'detail-type': z.literal('Step Functions Execution Status Change'),
  detail: z.object({
    executionArn: z.string(),
    name: z.string().min(1),
    status: z.enum(['FAILED', 'TIMED_OUT', 'ABORTED']),
    error: z.string().nullish(),
    cause: z.string().nullish(),
  }),
});

type StatusChangeEvent = z.output<typeof statusChangeEvent>;

export const handler = middy(
  withInvocationDeadline(async (event: StatusChangeEvent, _context: Context) => {
    const { detail } = event;
    logger.appendKeys({ deploymentId: detail.name, execution: detail.executionArn });
    const result = await killAfterExecution({ deployments: deploymentRepository(), sandboxes: sandboxProvider(), staging: fileStaging(), logArchive: logArchive(), ownership: sandboxOwnership(), quotas: quotaStore() }, detail);
    logger.info('cleaned up after the execution ended', { status: detail.status, result });
    return result;
  }),
)
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(validateEvent(statusChangeEvent));
