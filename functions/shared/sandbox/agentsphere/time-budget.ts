/**
 * Fitting SDK calls into the invocation's remaining time: a request's timeout, a command's
 * deadline and a call's retries never outlive it. Too little time left is a SandboxDeadlineError
 * (named, so the state machine retries the step in a fresh invocation).
 */
import { SandboxDeadlineError } from '../errors.ts';

/** When the invocation ends (epoch ms), or undefined outside one. */
export type DeadlineSource = () => number | undefined;

/** Kept free at the end of an invocation for the caller to record what happened. */
export const DEADLINE_MARGIN_MS = 2_000;
/** A call given less than this could only time out. */
const MIN_CALL_MS = 500;

/** Milliseconds a call may take: `wantedMs`, or less when the invocation ends sooner. */
export function fitTimeout(operation: string, wantedMs: number, deadline: DeadlineSource | undefined): number {
  const left = timeLeft(deadline);
  if (left === undefined) return wantedMs;
  if (left < MIN_CALL_MS) {
    throw new SandboxDeadlineError(`${operation} not attempted: only ${Math.max(0, Math.round(left))} ms of the invocation are left`);
  }
  return Math.min(wantedMs, left);
}

/** Milliseconds left before the margin, or undefined when no deadline is known. */
export function timeLeft(deadline: DeadlineSource | undefined): number | undefined {
  const end = deadline?.();
  return end === undefined ? undefined : end - Date.now() - DEADLINE_MARGIN_MS;
}
