/**
 * Webhook signatures: `X-CodeRunner-Signature: t=<unix seconds>,v1=<hex>`, where the hex is
 * HMAC-SHA256 over `<t>.<body>` keyed with the user's webhook secret. Right after a rotation a
 * delivery carries one v1 per valid secret (the new one first). A receiver recomputes the HMAC
 * over the raw body, compares in constant time with any v1, and rejects a `t` more than five
 * minutes away from its clock (a replay).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-CodeRunner-Signature';
export const EVENT_ID_HEADER = 'X-CodeRunner-Event-Id';
export const EVENT_TYPE_HEADER = 'X-CodeRunner-Event';
/** How far a signature's timestamp may be from the receiver's clock. */
export const REPLAY_TOLERANCE_SECONDS = 300;

export function signPayload(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The header value for a body sent at `timestamp` (unix seconds), one v1 per secret. */
export function signatureHeader(secrets: readonly string[], timestamp: number, body: string): string {
  return [`t=${timestamp}`, ...secrets.map((secret) => `v1=${signPayload(secret, timestamp, body)}`)].join(',');
}

export type SignatureCheck = { valid: true; timestamp: number } | { valid: false; reason: string };

export interface VerifyOptions {
  /** Milliseconds since the epoch (default: now). */
  now?: number;
  toleranceSeconds?: number;
}

/** What a receiver does with a delivery: the raw body, the header, its copy of the secret. */
export function verifySignature(header: string | undefined, body: string, secret: string, options: VerifyOptions = {}): SignatureCheck {
  if (!header) return { valid: false, reason: `no ${SIGNATURE_HEADER} header` };
  const parts = header.split(',').map((part) => part.trim().split('=', 2) as [string, string | undefined]);
  const timestamp = Number(parts.find(([key]) => key === 't')?.[1]);
  const signatures = parts.filter(([key, value]) => key === 'v1' && value).map(([, value]) => value!);
  if (!Number.isInteger(timestamp) || signatures.length === 0) return { valid: false, reason: 'the signature header is malformed' };
  const nowSeconds = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > (options.toleranceSeconds ?? REPLAY_TOLERANCE_SECONDS)) {
    return { valid: false, reason: 'the timestamp is outside the tolerance (a replay, or a wrong clock)' };
  }
  const expected = Buffer.from(signPayload(secret, timestamp, body), 'hex');
  const matches = signatures.some((signature) => {
    const given = Buffer.from(signature, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  return matches ? { valid: true, timestamp } : { valid: false, reason: 'no signature matches the secret' };
}
