/** `GET /webhook-secret`: the caller's webhook signing secret, made on first use. */
import { apiHandler, callerId, json } from '../shared/middleware/http-api.ts';
import { webhookSecrets } from '../shared/runtime/webhook-secrets.ts';
import { webhookSecretOf, webhookSecretView } from '../shared/webhooks/webhook-secret.ts';

export const handler = apiHandler(async (event) =>
  json(200, webhookSecretView(await webhookSecretOf(webhookSecrets(), callerId(event))), { 'cache-control': 'no-store' }),
);
