/**
 * Retries an SDK call that is safe to repeat, with exponential backoff and jitter, when the
 * failure is transient (rate limit, 5xx, connection error). Everything else fails at once.
 */
import pRetry from 'p-retry';
import type { SandboxProviderError } from '../errors.ts';
import { toSandboxError } from './map-error.ts';
import { timeLeft, type DeadlineSource } from './time-budget.ts';

export interface RetryOptions {
  /** Retries after the first attempt. Default 4. */
  retries?: number;
  /** Delay before the first retry, in ms; doubles each time, times a random 1..2. Default 200. */
  minTimeout?: number;
  /** Upper bound of a single delay, in ms. Default 3 000. */
  maxTimeout?: number;
  /** Which mapped errors to retry. Default: the transient ones. */
  retryOn?: (error: SandboxProviderError) => boolean;
  /** When the invocation ends: no retry is started that could outlive it. */
  deadline?: DeadlineSource;
}

export const DEFAULT_RETRY_OPTIONS = {
  retries: 4,
  minTimeout: 200,
  maxTimeout: 3_000,
} as const satisfies RetryOptions;

export function isTransient(error: SandboxProviderError): boolean {
  return error.transient;
}

/**
 * Calls `fn` until it succeeds, `retryOn` refuses the error, or the retries run out. Always
 * rejects with a SandboxProviderError (the last one), whose message starts with `operation`.
 */
export async function withRetry<T>(operation: string, fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { retryOn = isTransient, deadline, ...timing } = options;
  const left = timeLeft(deadline);
  try {
    return await pRetry(
      async () => {
        try {
          return await fn();
        } catch (err) {
          // Map inside the attempt so shouldRetry sees the product error and p-retry's own TypeError rule
          // (never retry a TypeError unless it is a network error) does not apply to SDK TypeErrors.
          throw toSandboxError(err, operation);
        }
      },
      {
        retries: timing.retries ?? DEFAULT_RETRY_OPTIONS.retries,
        minTimeout: timing.minTimeout ?? DEFAULT_RETRY_OPTIONS.minTimeout,
        maxTimeout: timing.maxTimeout ?? DEFAULT_RETRY_OPTIONS.maxTimeout,
        factor: 2,
        randomize: true,
        // p-retry stops retrying once this much time has passed since the first attempt.
        ...(left !== undefined ? { maxRetryTime: Math.max(0, left) } : {}),
        // Returning false makes p-retry reject with this error at once, without waiting.
        shouldRetry: ({ error }) => retryOn(toSandboxError(error, operation)),
      },
    );
  } catch (err) {
    throw toSandboxError(err, operation);
  }
}
