/**
 * Webhook signatures as a receiver checks them: HMAC-SHA256 over "<t>.<body>", a timestamp
 * within five minutes, any v1 matching (two while a rotated secret is still valid).
 */
import { describe, expect, it } from 'vitest';
import { signatureHeader, verifySignature } from '../../../functions/shared/webhooks/signature.ts';

const SECRET = 'whsec_test-secret';
const BODY = JSON.stringify({ eventId: 'd-1:RUNNING', status: 'RUNNING' });
const NOW = Date.parse('2030-01-01T12:00:00Z');
const T = NOW / 1000;

describe('verifySignature', () => {
  it('accepts a body signed with the secret a moment ago', () => {
    // Prepare
    const header = signatureHeader([SECRET], T - 2, BODY);

    // Act
    const check = verifySignature(header, BODY, SECRET, { now: NOW });

    // Assert
    expect(check).toEqual({ valid: true, timestamp: T - 2 });
  });

  it('rejects a body changed after signing', () => {
    const header = signatureHeader([SECRET], T, BODY);

    const check = verifySignature(header, BODY.replace('RUNNING', 'FAILED'), SECRET, { now: NOW });

    expect(check).toMatchObject({ valid: false, reason: 'no signature matches the secret' });
  });

  it('rejects a signature made with another secret', () => {
    const header = signatureHeader(['whsec_other'], T, BODY);

    const check = verifySignature(header, BODY, SECRET, { now: NOW });

    expect(check.valid).toBe(false);
  });

  it('rejects a replay older than five minutes', () => {
    // Prepare: a genuine delivery, replayed 301 s later
    const header = signatureHeader([SECRET], T - 301, BODY);

    // Act
    const check = verifySignature(header, BODY, SECRET, { now: NOW });

    // Assert
    expect(check).toMatchObject({ valid: false, reason: expect.stringMatching(/outside the tolerance/) });
  });

  it('rejects a timestamp moved forward: the timestamp is signed too', () => {
    // Prepare: an old delivery whose t was rewritten to now
    const old = signatureHeader([SECRET], T - 3600, BODY);

    // Act
    const check = verifySignature(old.replace(`t=${T - 3600}`, `t=${T}`), BODY, SECRET, { now: NOW });

    // Assert
    expect(check.valid).toBe(false);
  });

  it('accepts either secret while a rotated one still signs', () => {
    // Prepare
    const header = signatureHeader(['whsec_new', SECRET], T, BODY);

    // Act
    const checks = [verifySignature(header, BODY, 'whsec_new', { now: NOW }), verifySignature(header, BODY, SECRET, { now: NOW })];

    // Assert
    expect(checks.map((check) => check.valid)).toEqual([true, true]);
  });

  it.each([undefined, '', 'v1=abc', 't=abc,v1=00'])('rejects the malformed header %j', (header) => {
    expect(verifySignature(header, BODY, SECRET, { now: NOW }).valid).toBe(false);
  });
});
