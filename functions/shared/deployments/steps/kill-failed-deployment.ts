/**
 * The saga's compensation: whatever step failed, save the logs, kill the sandbox (if any exists)
 * and record FAILED with the step and the cause. Its input tolerates a failure before any
 * sandbox existed. Idempotent: run again, it only makes sure no sandbox is left.
 */
import type { DeploymentFailure } from '../deployment.ts';
import { isTerminal } from '../deployment-status.ts';
import type { Uses } from '../dependencies.ts';
import { endDeployment, type EndingPorts } from '../ending/end-deployment.ts';
import { killDeploymentSandboxes } from '../ending/kill-deployment-sandboxes.ts';

export interface KillInput {
  deploymentId: string;
  failedStep: DeploymentFailure['step'];
  /** The Catch's error output: `Error` is the error name, `Cause` Lambda's JSON or a plain text. */
  error?: { Error?: string; Cause?: string };
}

export interface KillResult {
  deploymentId: string;
  status: string;
  killedSandboxes: string[];
  /** True when this kill recorded the failure (false when a terminal status already stood). */
  recorded: boolean;
  error: DeploymentFailure;
}

export async function killFailedDeployment(dependencies: Uses<EndingPorts>, input: KillInput): Promise<KillResult> {
  const failure = describeFailure(input);
  const deployment = await dependencies.deployments.get(input.deploymentId);
  const result = { deploymentId: input.deploymentId, error: failure };
  if (!deployment) {
    const killedSandboxes = await killDeploymentSandboxes(dependencies, input.deploymentId);
    return { ...result, status: 'UNKNOWN', killedSandboxes, recorded: false };
  }
  // A RUNNING app stays up (the failure came after its last step); a deployment replaced by a
  // redeploy handed its sandbox on.
  if (deployment.status === 'RUNNING' || deployment.replacedBy !== undefined) {
    return { ...result, status: deployment.status, killedSandboxes: [], recorded: false };
  }
  if (isTerminal(deployment.status)) {
    // Ended by someone else; make sure nothing of it is left.
    const killedSandboxes = await killDeploymentSandboxes(dependencies, input.deploymentId, deployment);
    return { ...result, status: deployment.status, killedSandboxes, recorded: false };
  }
  const { ended, killedSandboxes } = await endDeployment(dependencies, { deployment, to: 'FAILED', changes: { error: failure } });
  const status = ended?.status ?? (await dependencies.deployments.get(input.deploymentId))?.status ?? 'UNKNOWN';
  // The cause on the record: the first ender's, when another ender had claimed the ending already.
  return { ...result, ...(ended?.error ? { error: ended.error } : {}), status, killedSandboxes, recorded: ended !== undefined };
}

export function describeFailure(input: KillInput): DeploymentFailure {
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
