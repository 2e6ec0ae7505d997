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
  let deployment = await deployments.get(input.deploymentId);
  let recorded = false;
  // Record first, then kill: the record decides whose sandbox it is.
  if (deployment && !isTerminal(deployment.status) && deployment.status !== 'RUNNING') {
    try {
      deployment = await deployments.transition(input.deploymentId, 'FAILED', { error: failure });
      recorded = true;
    } catch (error) {
      // Terminated, expired or (a late failure after the last step) RUNNING meanwhile: that stands.
      if (!(error instanceof IllegalTransitionError)) throw error;
      deployment = await deployments.get(input.deploymentId);
    }
  }
  // A RUNNING app stays up (the failure came after its last step), and a deployment replaced by
  // a redeploy handed its sandbox on.
  const keep = deployment?.status === 'RUNNING' || deployment?.replacedBy !== undefined;
  const killedSandboxes = keep ? [] : await killDeploymentSandboxes(sandboxes, input.deploymentId, deployment?.sandboxId);
  const status = deployment?.status ?? 'UNKNOWN';
  if (!keep) await staging.deleteAll(input.deploymentId).catch(() => undefined);
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
