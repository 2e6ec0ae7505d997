/**
 * Control-plane calls shared by the provider and the sandbox handle, each with the connection
 * options passed explicitly and retried (they are all safe to repeat).
 */
import { Sandbox } from 'agentsphere';
import { SandboxGoneError, SandboxInvalidRequestError, SandboxNotFoundError } from '../errors.ts';
import type { AgentSphereConfig } from './config.ts';
import { withRetry, type RetryOptions } from './retry.ts';
import { fitTimeout } from './time-budget.ts';

export interface ControlPlaneContext {
  connection: AgentSphereConfig;
  retry: RetryOptions;
}

/**
 * The options every SDK call gets, so that the SDK never falls back to its environment
 * variables; the request timeout fits what is left of the invocation.
 */
export function sdkConnectionOptions(connection: AgentSphereConfig, operation = 'a sandbox request'): Omit<AgentSphereConfig, 'deadline'> {
  return {
    apiKey: connection.apiKey,
    domain: connection.domain,
    requestTimeoutMs: fitTimeout(operation, connection.requestTimeoutMs, connection.deadline),
  };
}

/** Ends the sandbox; an unknown or already ended sandbox is success. */
export async function killSandbox(sandboxId: string, context: ControlPlaneContext): Promise<void> {
  try {
    // The SDK returns false for a 404: the sandbox is already gone, which is what we want.
    await withRetry(`kill sandbox ${sandboxId}`, () => Sandbox.kill(sandboxId, sdkConnectionOptions(context.connection)), context.retry);
  } catch (err) {
    if (err instanceof SandboxNotFoundError || err instanceof SandboxGoneError) return;
    throw err;
  }
}

/** Sets the remaining lifetime to `lifetimeSeconds` from now. */
export async function setSandboxLifetime(
  sandboxId: string,
  lifetimeSeconds: number,
  context: ControlPlaneContext,
): Promise<void> {
  const timeoutMs = lifetimeMs(lifetimeSeconds);
  await withRetry(
    `extend the lifetime of sandbox ${sandboxId}`,
    () => Sandbox.setTimeout(sandboxId, timeoutMs, sdkConnectionOptions(context.connection)),
    context.retry,
  );
}

/** Seconds -> the SDK's milliseconds; rejects values the provider would misread (it rounds up to seconds). */
export function lifetimeMs(lifetimeSeconds: number): number {
  if (!Number.isFinite(lifetimeSeconds) || lifetimeSeconds <= 0) {
    throw new SandboxInvalidRequestError(`a sandbox lifetime must be a positive number of seconds, got ${lifetimeSeconds}`);
  }
  return Math.ceil(lifetimeSeconds) * 1000;
}
