/**
 * The kill for what the saga's Catch cannot see: an execution that timed out, was aborted, or
 * failed with an uncatchable error (States.DataLimitExceeded, States.Runtime). Driven by the
 * "Step Functions Execution Status Change" event. Idempotent: after the saga's own Kill step it
 * only confirms that no sandbox is left.
 */
import { STEP_OF_STATUS } from '../deployment-status.ts';
import type { Uses } from '../dependencies.ts';
import type { EndingPorts } from './end-deployment.ts';
import { killFailedDeployment, type KillResult } from '../steps/kill-failed-deployment.ts';

export interface ExecutionEnded {
  /** The execution's name: the deployment id. */
  name: string;
  status: 'FAILED' | 'TIMED_OUT' | 'ABORTED';
  error?: string | null;
  cause?: string | null;
}

export async function killAfterExecution(dependencies: Uses<EndingPorts>, event: ExecutionEnded): Promise<KillResult> {
  const deployment = await dependencies.deployments.get(event.name);
  // A record being stopped names its step in the cause its ender recorded.
  const step = (deployment && (STEP_OF_STATUS[deployment.status] ?? deployment.error?.step)) ?? 'create';
  return killFailedDeployment(dependencies, {
    deploymentId: event.name,
    failedStep: step,
    error: {
      Error: event.error ?? `Execution${event.status === 'TIMED_OUT' ? 'TimedOut' : event.status === 'ABORTED' ? 'Aborted' : 'Failed'}`,
      Cause: event.cause ?? `the execution ${event.status.toLowerCase().replace('_', ' ')} in step ${step}`,
    },
  });
}
