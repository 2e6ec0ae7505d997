/**
 * withRetry: repeats transient failures with backoff, fails at once on the rest, and always
 * rejects with a mapped product error.
 */
import { SandboxError } from 'agentsphere';
import { describe, expect, it } from 'vitest';
import { withRetry } from '../../../functions/shared/sandbox/agentsphere/retry.ts';
import {
  SandboxRateLimitedError,
  SandboxUnauthorizedError,
  SandboxUnavailableError,
} from '../../../functions/shared/sandbox/errors.ts';

const FAST = { minTimeout: 1, maxTimeout: 2 };

/** A call that throws the given errors in turn, then returns `result`; counts its calls. */
function flaky<T>(errors: unknown[], result: T) {
  const remaining = [...errors];
  const call = async (): Promise<T> => {
    call.calls++;
    if (remaining.length > 0) throw remaining.shift();
    return result;
  };
  call.calls = 0;
  return call;
}

function rateLimitError(): SandboxError {
  const error = new SandboxError('Rate limit exceeded, please try again later.');
  error.name = 'RateLimitError';
  return error;
}

function connectionRefused(): TypeError {
  return new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
}

describe('withRetry', () => {
  it('retries a transient error and then returns the result', async () => {
    const call = flaky([new SandboxError('503: busy'), rateLimitError()], 'listed');

    const result = await withRetry('list sandboxes', call, FAST);

    expect(result).toBe('listed');
    expect(call.calls).toBe(3);
  });

  it('retries a network TypeError, which p-retry alone would not', async () => {
    const call = flaky([connectionRefused()], 'ok');

    const result = await withRetry('list sandboxes', call, FAST);

    expect(result).toBe('ok');
    expect(call.calls).toBe(2);
  });

  it('fails at once, mapped, on an error that is not transient', async () => {
    const call = flaky([new SandboxError('401: Invalid API key')], 'never');

    const outcome = withRetry('list sandboxes', call, FAST);

    await expect(outcome).rejects.toBeInstanceOf(SandboxUnauthorizedError);
    await expect(outcome).rejects.toThrow('list sandboxes failed: 401: Invalid API key');
    expect(call.calls).toBe(1);
  });

  it('gives up after the configured retries with the last error', async () => {
    const call = flaky(Array.from({ length: 10 }, (_, index) => new SandboxError(`500: failure ${index}`)), 'never');

    const outcome = withRetry('kill sandbox abc', call, { ...FAST, retries: 2 });

    await expect(outcome).rejects.toBeInstanceOf(SandboxUnavailableError);
    await expect(outcome).rejects.toThrow('failure 2');
    expect(call.calls).toBe(3);
  });

  it('retries only what retryOn accepts', async () => {
    const onlyRateLimits = { ...FAST, retryOn: (error: Error) => error instanceof SandboxRateLimitedError };
    const rateLimited = flaky([rateLimitError()], 'created');
    const serverError = flaky([new SandboxError('500: maybe created')], 'never');

    const created = await withRetry('create a sandbox', rateLimited, onlyRateLimits);
    const failed = withRetry('create a sandbox', serverError, onlyRateLimits);

    expect(created).toBe('created');
    expect(rateLimited.calls).toBe(2);
    await expect(failed).rejects.toBeInstanceOf(SandboxUnavailableError);
    expect(serverError.calls).toBe(1);
  });

  it('waits longer before each retry', async () => {
    const call = flaky([new SandboxError('503: a'), new SandboxError('503: b'), new SandboxError('503: c')], 'ok');
    const started: number[] = [];
    const timed = async () => {
      started.push(performance.now());
      return call();
    };

    await withRetry('list sandboxes', timed, { minTimeout: 20, maxTimeout: 1_000 });

    const gaps = started.slice(1).map((time, index) => time - started[index]!);
    // Delays are 20·2^n times a random factor in [1, 2): at least 20, 40, 80 ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(19);
    expect(gaps[1]).toBeGreaterThanOrEqual(39);
    expect(gaps[2]).toBeGreaterThanOrEqual(79);
  });
});
