/**
 * EventBridge rule target for "Deployment Status Changed" events of deployments with a
 * callbackUrl: POSTs the event to it, signed with the owner's webhook secret. Retries inside the
 * invocation; when they all fail the invocation fails, and Lambda's async retries, then the
 * webhook dead-letter queue, take over. The saga never waits for any of it.
 */
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { DEPLOYMENT_STATUSES } from '../shared/deployments/deployment-status.ts';
import { EVENT_SOURCE, STATUS_CHANGED, type DeploymentEvent } from '../shared/deployments/events/deployment-event.ts';
import { validateEvent } from '../shared/middleware/validate-event.ts';
import { callbackUrlPolicy } from '../shared/runtime/callback-url-policy.ts';
import { numberEnv } from '../shared/runtime/environment.ts';
import { logger, metrics } from '../shared/runtime/observability.ts';
import { webhookSecrets } from '../shared/runtime/webhook-secrets.ts';
import { deliverWebhook } from '../shared/webhooks/deliver-webhook.ts';

const statusChangedEvent = z.object({
  source: z.literal(EVENT_SOURCE),
  'detail-type': z.literal(STATUS_CHANGED),
  detail: z
    .object({
      eventId: z.string().min(1),
      deploymentId: z.string().min(1),
      userId: z.string().min(1),
      status: z.enum(DEPLOYMENT_STATUSES),
      callbackUrl: z.string().min(1),
    })
    .loose(),
});

type StatusChangedEvent = z.output<typeof statusChangedEvent>;

const policy = callbackUrlPolicy();
const attempts = numberEnv('WEBHOOK_ATTEMPTS', 3);
const firstDelayMs = numberEnv('WEBHOOK_RETRY_DELAY_MS', 1_000);
const timeoutMs = numberEnv('WEBHOOK_TIMEOUT_MS', 5_000);

export const handler = middy(async (event: StatusChangedEvent, context: Context) => {
  const { callbackUrl, ...detail } = event.detail;
  const deploymentEvent = detail as unknown as DeploymentEvent;
  // The host only: a callback URL may carry a token in its path or query.
  logger.appendKeys({ deploymentId: detail.deploymentId, eventId: detail.eventId, callbackHost: hostOf(callbackUrl) });
  try {
    const delivery = await deliverWebhook({ secrets: webhookSecrets() }, { event: deploymentEvent, callbackUrl }, {
      policy,
      attempts,
      firstDelayMs,
      timeoutMs,
      remainingMs: () => context.getRemainingTimeInMillis(),
    });
    if (delivery.refused) {
      logger.warn('webhook target refused', { reason: delivery.refused });
      metrics.addMetric('WebhooksRefused', MetricUnit.Count, 1);
    } else {
      logger.info('webhook delivered', { attempts: delivery.attempts, statusCode: delivery.statusCode });
      metrics.addMetric('WebhooksDelivered', MetricUnit.Count, 1);
    }
    return delivery;
  } catch (error) {
    logger.warn('webhook delivery failed; Lambda retries the invocation', { error: error as Error });
    metrics.addMetric('WebhookDeliveryFailures', MetricUnit.Count, 1);
    throw error;
  }
})
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .use(validateEvent(statusChangedEvent));

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid)';
  }
}
