/** Starts and stops deployment sagas with Step Functions. */
import { ExecutionDoesNotExist, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import type { WorkflowInput, Workflows } from '../deployments/ports.ts';

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

  async stop(executionArn: string, cause: string): Promise<void> {
    try {
      await this.#client.send(new StopExecutionCommand({ executionArn, error: 'Terminated', cause }));
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist || (error as Error).name === 'ExecutionDoesNotExist') return;
      throw error;
    }
  }
}
