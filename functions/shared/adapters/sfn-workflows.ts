/** Starts deployment sagas with Step Functions, and tells whether one still runs. */
import { DescribeExecutionCommand, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { ExecutionState, WorkflowInput, Workflows } from '../deployments/ports.ts';

export interface SfnWorkflowsOptions {
  client: SFNClient;
  stateMachineArn: string;
}

export class SfnWorkflows implements Workflows {
  readonly #client: SFNClient;
  readonly #stateMachineArn: string;

  constructor(options: SfnWorkflowsOptions) {
    this.#client = options.client;
    this.#stateMachineArn = options.stateMachineArn;
  }

  async start(input: WorkflowInput): Promise<string> {
    // The execution name is the deployment id: a retried start with the same input returns the
    // same execution instead of starting a second saga.
    const { executionArn } = await this.#client.send(
      new StartExecutionCommand({ stateMachineArn: this.#stateMachineArn, name: input.deploymentId, input: JSON.stringify(input) }),
    );
    return executionArn!;
  }

  async status(executionArn: string): Promise<ExecutionState> {
    try {
      const { status } = await this.#client.send(new DescribeExecutionCommand({ executionArn }));
      return (status ?? 'NOT_FOUND') as ExecutionState;
    } catch (error) {
      if ((error as Error).name === 'ExecutionDoesNotExist') return 'NOT_FOUND';
      throw error;
    }
  }
}
