import { describe, expect, it } from 'vitest';
import { SandboxDeadlineError } from '../../../functions/shared/sandbox/errors.ts';
import { DEADLINE_MARGIN_MS, fitTimeout, timeLeft } from '../../../functions/shared/sandbox/agentsphere/time-budget.ts';

describe('fitting a call into the invocation', () => {
  it('keeps the wanted timeout outside an invocation', () => {
    expect(fitTimeout('call', 30_000, undefined)).toBe(30_000);
  });

  it('keeps the wanted timeout when the invocation has more time left', () => {
    expect(fitTimeout('call', 30_000, () => Date.now() + 60_000)).toBe(30_000);
  });

  it('shortens the timeout to the time left, minus the margin kept for the caller', () => {
    const fitted = fitTimeout('call', 30_000, () => Date.now() + 10_000);

    expect(fitted).toBeLessThanOrEqual(10_000 - DEADLINE_MARGIN_MS);
    expect(fitted).toBeGreaterThan(10_000 - DEADLINE_MARGIN_MS - 1_000);
  });

  it('refuses a call the invocation has no time left for, with a named error', () => {
    expect(() => fitTimeout('write 3 file(s)', 30_000, () => Date.now() + 1_000)).toThrow(SandboxDeadlineError);
  });

  it('says how much time is left before the margin', () => {
    expect(timeLeft(undefined)).toBeUndefined();
    expect(timeLeft(() => Date.now() + 5_000)).toBeLessThanOrEqual(5_000 - DEADLINE_MARGIN_MS);
  });
});
