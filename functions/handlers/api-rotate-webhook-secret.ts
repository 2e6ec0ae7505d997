/** `POST /webhook-secret/rotate`: a new webhook signing secret; the previous one keeps signing for a day. */
import { apiHandler, callerId, HttpProblem, json } from '../shared/middleware/http-api.ts';
import { webhookSecrets } from '../shared/runtime/webhook-secrets.ts';
import { rotateWebhookSecret, webhookSecretView, WebhookSecretConflictError } from '../shared/webhooks/webhook-secret.ts';

export const handler = apiHandler(async (event) => {
  try {
    return json(200, webhookSecretView(await rotateWebhookSecret(webhookSecrets(), callerId(event))), { 'cache-control': 'no-store' });
  } catch (error) {
    if (error instanceof WebhookSecretConflictError) throw new HttpProblem(409, error.message);
    throw error;
  }
});
