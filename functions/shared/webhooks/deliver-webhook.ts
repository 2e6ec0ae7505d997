/**
 * Delivers one deployment event to its deployment's callbackUrl: the event as JSON, signed with
 * the owner's webhook secret, tried a few times with exponential backoff and jitter inside the
 * invocation. A refused target ends the delivery at once (retrying would not change it); when
 * every attempt failed, WebhookDeliveryFailedError fails the invocation, so Lambda's own async
 * retries and then the dead-letter queue take over.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { STATUS_CHANGED, type DeploymentEvent } from '../deployments/events/deployment-event.ts';
import { DEFAULT_CALLBACK_URL_POLICY, type CallbackUrlPolicy } from './callback-url.ts';
import { WebhookDeliveryFailedError, WebhookTargetRefusedError } from './errors.ts';
import { postWebhook, type WebhookAnswer, type WebhookPost } from './post-webhook.ts';
import { EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.ts';
import { signingSecrets, webhookSecretOf, type WebhookSecrets } from './webhook-secret.ts';

export const WEBHOOK_USER_AGENT = 'CodeRunner-Webhook/1.0';

export interface WebhookDeliveryOptions {
  /** Attempts in this invocation (default 3). */
  attempts?: number;
  /** Backoff before the second attempt; doubles each time, with full jitter (default 1 s). */
  firstDelayMs?: number;
  /** One attempt's limit, connection and answer together (default 5 s). */
  timeoutMs?: number;
  policy?: CallbackUrlPolicy;
  /** What is left of the invocation: no attempt starts that could not finish in it. */
  remainingMs?: () => number;
  now?: () => Date;
  post?: (post: WebhookPost) => Promise<WebhookAnswer>;
}

export interface WebhookDelivery {
  delivered: boolean;
  attempts: number;
  statusCode?: number;
  /** Why the target was refused (then nothing was sent). */
  refused?: string;
}

const DEFAULTS = { attempts: 3, firstDelayMs: 1_000, timeoutMs: 5_000 };
/** Kept free at the end of the invocation for logging the outcome. */
const SAFETY_MARGIN_MS = 1_000;

export async function deliverWebhook(
  dependencies: { secrets: WebhookSecrets },
  input: { event: DeploymentEvent; callbackUrl: string },
  options: WebhookDeliveryOptions = {},
): Promise<WebhookDelivery> {
  const settings = { ...DEFAULTS, ...options };
  const now = options.now ?? (() => new Date());
  const post = options.post ?? postWebhook;
  const secret = await webhookSecretOf(dependencies.secrets, input.event.userId, now());
  const body = JSON.stringify(input.event);
  let lastProblem = '';
  let attempt = 0;
  while (attempt < settings.attempts) {
    attempt += 1;
    const timestamp = Math.floor(now().getTime() / 1000);
    try {
      const answer = await post({
        url: input.callbackUrl,
        body,
        timeoutMs: settings.timeoutMs,
        policy: options.policy ?? DEFAULT_CALLBACK_URL_POLICY,
        headers: {
          'content-type': 'application/json',
          'user-agent': WEBHOOK_USER_AGENT,
          [EVENT_TYPE_HEADER]: STATUS_CHANGED,
          [EVENT_ID_HEADER]: input.event.eventId,
          // Signed per attempt: a retry carries a fresh timestamp.
          [SIGNATURE_HEADER]: signatureHeader(signingSecrets(secret, now()), timestamp, body),
        },
      });
      if (answer.statusCode >= 200 && answer.statusCode < 300) return { delivered: true, attempts: attempt, statusCode: answer.statusCode };
      lastProblem = `the receiver answered ${answer.statusCode}`;
    } catch (error) {
      if (error instanceof WebhookTargetRefusedError) return { delivered: false, attempts: attempt, refused: error.message };
      lastProblem = (error as Error).message;
    }
    if (attempt >= settings.attempts) break;
    const delay = Math.round(Math.random() * settings.firstDelayMs * 2 ** (attempt - 1));
    const left = options.remainingMs?.() ?? Number.POSITIVE_INFINITY;
    if (left - delay - settings.timeoutMs < SAFETY_MARGIN_MS) break;
    await sleep(delay);
  }
  throw new WebhookDeliveryFailedError(`webhook ${input.event.eventId} not delivered after ${attempt} attempt(s): ${lastProblem}`);
}
