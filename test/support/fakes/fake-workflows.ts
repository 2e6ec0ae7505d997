/**
 * Step Functions executions in memory: one execution per deployment id (its name), started
 * RUNNING; a repeated start with the same input answers the same ARN, with another input it
 * fails as ExecutionAlreadyExists. Tests set an execution's state to what the saga would reach.
 */
import type { ExecutionState, WorkflowInput, Workflows } from '../../../functions/shared/deployments/ports.ts';
import { CallControl, type CallControlOptions } from './call-control.ts';

export type WorkflowsMethod = 'start' | 'status';

export const FAKE_STATE_MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:coderunner-deployments';

interface Execution {
  input: WorkflowInput;
  state: Exclude<ExecutionState, 'NOT_FOUND'>;
}

export class ExecutionAlreadyExistsError extends Error {
  constructor(name: string) {
    super(`Execution Already Exists: '${name}'`);
    this.name = 'ExecutionAlreadyExists';
  }
}

export class FakeWorkflows implements Workflows {
  readonly control: CallControl<WorkflowsMethod>;
  readonly #executions = new Map<string, Execution>();

  constructor(options: CallControlOptions = {}) {
    this.control = new CallControl('workflows', options);
  }

  static arnOf(deploymentId: string): string {
    return `${FAKE_STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:')}:${deploymentId}`;
  }

  /** The input an execution was started with; undefined when none was started. */
  inputOf(deploymentId: string): WorkflowInput | undefined {
    const execution = this.#executions.get(FakeWorkflows.arnOf(deploymentId));
    return execution && structuredClone(execution.input);
  }

  /** Moves an execution on, as the saga (or a crash of it) would. */
  setState(deploymentId: string, state: Execution['state']): void {
    const execution = this.#executions.get(FakeWorkflows.arnOf(deploymentId));
    if (!execution) throw new Error(`no execution for deployment ${deploymentId}`);
    execution.state = state;
  }

  /** An execution that exists as if started earlier (with no batches). */
  seed(deploymentId: string, state: Execution['state'] = 'RUNNING'): string {
    const arn = FakeWorkflows.arnOf(deploymentId);
    this.#executions.set(arn, { input: { deploymentId, batches: [] }, state });
    return arn;
  }

  start(input: WorkflowInput): Promise<string> {
    return this.control.call('start', [input], () => {
      const arn = FakeWorkflows.arnOf(input.deploymentId);
      const existing = this.#executions.get(arn);
      if (existing && JSON.stringify(existing.input) !== JSON.stringify(input)) throw new ExecutionAlreadyExistsError(input.deploymentId);
      if (!existing) this.#executions.set(arn, { input: structuredClone(input), state: 'RUNNING' });
      return arn;
    });
  }

  status(executionArn: string): Promise<ExecutionState> {
    return this.control.call('status', [executionArn], () => this.#executions.get(executionArn)?.state ?? 'NOT_FOUND');
  }
}
