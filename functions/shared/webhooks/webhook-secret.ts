/**
 * Each user's webhook signing secret: made on first use (the first delivery, or the owner asking
 * for it), readable by its owner only, never logged and never in an event. Rotating keeps the
 * previous secret valid for a day, so receivers can switch without losing deliveries.
 */
import { randomBytes } from 'node:crypto';

export interface WebhookSecret {
  secret: string;
  createdAt: string;
  /** The secret before the last rotation, still signing until `validUntil`. */
  previous?: { secret: string; validUntil: string };
}

export interface WebhookSecrets {
  get(userId: string): Promise<WebhookSecret | undefined>;
  /** Stores `secret` unless the user has one; answers the one stored (of racing callers, one wins). */
  createIfAbsent(userId: string, secret: WebhookSecret): Promise<WebhookSecret>;
  /** Replaces the user's secret only if it is still `current`; false when someone else changed it. */
  replace(userId: string, current: WebhookSecret, next: WebhookSecret): Promise<boolean>;
}

export const PREVIOUS_SECRET_VALID_SECONDS = 24 * 3600;

export class WebhookSecretConflictError extends Error {
  constructor() {
    super('the webhook secret changed while rotating it; try again');
    this.name = 'WebhookSecretConflictError';
  }
}

/** 32 random bytes; the whole string (prefix included) is the HMAC key. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

export async function webhookSecretOf(secrets: WebhookSecrets, userId: string, now = new Date()): Promise<WebhookSecret> {
  return (await secrets.get(userId)) ?? secrets.createIfAbsent(userId, { secret: generateSecret(), createdAt: now.toISOString() });
}

export async function rotateWebhookSecret(secrets: WebhookSecrets, userId: string, now = new Date()): Promise<WebhookSecret> {
  const current = await webhookSecretOf(secrets, userId, now);
  const next: WebhookSecret = {
    secret: generateSecret(),
    createdAt: now.toISOString(),
    previous: { secret: current.secret, validUntil: new Date(now.getTime() + PREVIOUS_SECRET_VALID_SECONDS * 1000).toISOString() },
  };
  if (!(await secrets.replace(userId, current, next))) throw new WebhookSecretConflictError();
  return next;
}

/** The secrets a delivery is signed with now: the current one, and the previous while it is valid. */
export function signingSecrets(secret: WebhookSecret, now = new Date()): string[] {
  const previousValid = secret.previous && new Date(secret.previous.validUntil) > now;
  return previousValid ? [secret.secret, secret.previous!.secret] : [secret.secret];
}

/** What the owner sees (GET /webhook-secret). */
export function webhookSecretView(secret: WebhookSecret, now = new Date()) {
  const previousValid = secret.previous && new Date(secret.previous.validUntil) > now;
  return {
    secret: secret.secret,
    createdAt: secret.createdAt,
    previousSecretValidUntil: previousValid ? secret.previous!.validUntil : null,
  };
}
