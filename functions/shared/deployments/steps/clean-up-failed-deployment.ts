/**
 * The saga's compensation: whatever step failed, kill the sandbox (if any exists) and record
 * FAILED with the step and the cause. Its input tolerates a failure before any sandbox existed.
 */
import type { DeploymentFailure } from '../deployment.ts';
import { isTerminal } from '../deployment-status.ts';
import type { DeploymentDependencies } from '../dependencies.ts';
import { IllegalTransitionError } from '../errors.ts';
import { killDeploymentSandboxes } from './kill-deployment-sandboxes.ts';

export interface CleanupInput {
  deploymentId: string;
  failedStep: DeploymentFailure['step'];
  /** The Catch's error output: `Error` is the error name, `Cause` Lambda's JSON or a plain text. */
  error?: { Error?: string; Cause?: string };
}

export interface CleanupResult {
  deploymentId: string;
  status: string;
  killedSandboxes: string[];
  /** True when this cleanup recorded the failure (false when a terminal status already stood). */
  recorded: boolean;
  error: DeploymentFailure;
}

export async function cleanUpFailedDeployment(dependencies: DeploymentDependencies, input: CleanupInput): Promise<CleanupResult> {
  const { deployments, sandboxes, staging } = dependencies;
  const failure = describeFailure(input);
  const deployment = await deployments.get(input.deploymentId);
  // A deployment replaced by a redeploy handed its sandbox on: not ours to kill any more.
  const killedSandboxes = deployment?.replacedBy ? [] : await killDeploymentSandboxes(sandboxes, input.deploymentId, deployment?.sandboxId);
  let status = deployment?.status ?? 'UNKNOWN';
  let recorded = false;
  if (deployment && !isTerminal(deployment.status)) {
    try {
      status = (await deployments.transition(input.deploymentId, 'FAILED', { error: failure })).status;
      recorded = true;
    } catch (error) {
      // Terminated or expired meanwhile: that terminal state stands.
      if (!(error instanceof IllegalTransitionError)) throw error;
      status = error.from;
    }
  }
  await staging.deleteAll(input.deploymentId).catch(() => undefined);
  return { deploymentId: input.deploymentId, status, killedSandboxes, recorded, error: failure };
}

export function describeFailure(input: CleanupInput): DeploymentFailure {
  const name = input.error?.Error ?? 'UnknownError';
  return { step: input.failedStep, name, message: causeMessage(input.error?.Cause) ?? name };
}

/** Lambda reports `{"errorType","errorMessage","trace"}` as the Cause; Step Functions' own errors are plain text. */
function causeMessage(cause: string | undefined): string | undefined {
  if (!cause) return undefined;
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // plain text
  }
  return cause;
}
