/**
 * A saga step's Lambda handler: validated input, correlated logs, metrics, duration. Errors
 * propagate with their stable `name`, which Step Functions' Retry and Catch match on.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { Context } from 'aws-lambda';
import type * as z from 'zod';
import { withInvocationDeadline } from '../runtime/invocation-deadline.ts';
import { logger, METRIC, metrics } from '../runtime/observability.ts';
import { correlateDeployment } from './correlate-deployment.ts';
import { stepDuration } from './step-metrics.ts';
import { validateEvent } from './validate-event.ts';

export function stepHandler<Schema extends z.ZodType, Result>(
  step: string,
  schema: Schema,
  task: (event: z.output<Schema>, context: Context) => Promise<Result>,
) {
  return middy(
    withInvocationDeadline(async (event: z.output<Schema>, context: Context): Promise<Result> => {
      logger.info(`${step} step started`);
      const result = await task(event, context);
      logger.info(`${step} step done`, { result });
      return result;
    }),
  )
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(validateEvent(schema))
    .use(correlateDeployment(logger))
    .use(stepDuration(metrics, step, METRIC.stepDuration))
    .use({
      onError: (request) => {
        const error = request.error as Error;
        logger.error(`${step} step failed`, { errorName: error?.name, error });
      },
    });
}
