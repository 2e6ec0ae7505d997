/**
 * When the current Lambda invocation ends, for code far from the handler (the sandbox adapter's
 * timeouts and retries must fit the time left). Set around each handler from its context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from 'aws-lambda';

const deadlines = new AsyncLocalStorage<number>();

/** Epoch milliseconds at which the current invocation times out; undefined outside one. */
export function currentInvocationDeadline(): number | undefined {
  return deadlines.getStore();
}

/** Runs the handler with its invocation's deadline known to everything it calls. */
export function withInvocationDeadline<Event, Result>(handler: (event: Event, context: Context) => Promise<Result>) {
  return (event: Event, context: Context): Promise<Result> =>
    deadlines.run(Date.now() + context.getRemainingTimeInMillis(), () => handler(event, context));
}
