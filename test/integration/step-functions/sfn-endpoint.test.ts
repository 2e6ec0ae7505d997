import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DescribeExecutionCommand,
  DescribeStateMachineCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { DescribeExecutionOutput } from '@aws-sdk/client-sfn';
import { LocalStepFunctions } from '../../../infra/local/step-functions/local-step-functions.ts';
import { resolveStateMachineDefinition } from '../../../infra/local/step-functions/resolve-definition.ts';
import { startStepFunctionsEndpoint } from '../../../infra/local/step-functions/sfn-endpoint.ts';
import type { StepFunctionsEndpoint } from '../../../infra/local/step-functions/sfn-endpoint.ts';
import { FUNCTIONS, STATE_MACHINE_ARN, delay, gate, loadWorkflowTemplate } from './workflow-fixture.ts';

const JOB_INPUT = { jobId: 'job-9', files: ['main.py'] };
const EXECUTION_PREFIX = STATE_MACHINE_ARN.replace(':stateMachine:', ':execution:');

/** Files whose name starts with "slow" hold their Map iteration until the tests end. */
const slowFiles = gate();
const service = new LocalStepFunctions({
  definition: resolveStateMachineDefinition(loadWorkflowTemplate()),
  stateMachineArn: STATE_MACHINE_ARN,
  retryIntervalMs: 0,
  handlers: {
    [FUNCTIONS.prepareSandbox]: async (event) => ({ sandboxId: 'sbx-9', executionId: (event as { executionId: string }).executionId }),
    [FUNCTIONS.runFile]: async (event) => {
      const { file } = event as { file: string };
      if (file.startsWith('slow')) await slowFiles.promise;
      return { file, exitCode: 0 };
    },
    [FUNCTIONS.cleanup]: async () => ({ removed: true }),
  },
});

let endpoint: StepFunctionsEndpoint;
let client: SFNClient;

beforeAll(async () => {
  endpoint = await startStepFunctionsEndpoint(service);
  client = new SFNClient({
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});

afterAll(async () => {
  service.stopAll();
  slowFiles.resolve();
  client?.destroy();
  await endpoint?.close();
});

async function describeUntilDone(executionArn: string): Promise<DescribeExecutionOutput> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    if (described.status !== 'RUNNING') return described;
    await delay(10);
  }
  throw new Error(`${executionArn} still RUNNING`);
}

describe('the local Step Functions endpoint, through @aws-sdk/client-sfn', () => {
  it('starts an execution and describes it until it succeeds, with dates and output like AWS', async () => {
    const started = await client.send(
      new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'job-9', input: JSON.stringify(JOB_INPUT) }),
    );

    const described = await describeUntilDone(started.executionArn!);

    expect(started.executionArn).toBe(`${EXECUTION_PREFIX}:job-9`);
    expect(started.startDate).toBeInstanceOf(Date);
    expect(described).toMatchObject({
      executionArn: started.executionArn,
      stateMachineArn: STATE_MACHINE_ARN,
      name: 'job-9',
      status: 'SUCCEEDED',
      input: JSON.stringify(JOB_INPUT),
    });
    expect(described.startDate?.getTime()).toBe(started.startDate?.getTime());
    expect(described.stopDate!.getTime()).toBeGreaterThanOrEqual(described.startDate!.getTime());
    expect(JSON.parse(described.output!)).toMatchObject({
      sandbox: { sandboxId: 'sbx-9', executionId: started.executionArn },
      results: [{ file: 'main.py', exitCode: 0 }],
    });
  });

  it('rejects DescribeExecution of an unknown execution with ExecutionDoesNotExist', async () => {
    const describing = client.send(new DescribeExecutionCommand({ executionArn: `${EXECUTION_PREFIX}:missing` }));

    await expect(describing).rejects.toMatchObject({
      name: 'ExecutionDoesNotExist',
      message: `Execution Does Not Exist: '${EXECUTION_PREFIX}:missing'`,
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('rejects StartExecution on an unknown state machine with StateMachineDoesNotExist', async () => {
    const starting = client.send(
      new StartExecutionCommand({ stateMachineArn: `${STATE_MACHINE_ARN}Other`, input: '{}' }),
    );

    await expect(starting).rejects.toMatchObject({ name: 'StateMachineDoesNotExist' });
  });

  it('rejects a second start under the same name with a different input as ExecutionAlreadyExists', async () => {
    const input = JSON.stringify({ jobId: 'job-10', files: ['slow.py'] });
    await client.send(new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'job-10', input }));

    const repeated = await client.send(new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'job-10', input }));
    const conflicting = client.send(new StartExecutionCommand({ stateMachineArn: STATE_MACHINE_ARN, name: 'job-10', input: '{}' }));

    expect(repeated.executionArn).toBe(`${EXECUTION_PREFIX}:job-10`);
    await expect(conflicting).rejects.toMatchObject({ name: 'ExecutionAlreadyExists' });
  });

  it('stops a running execution, which then describes as ABORTED with the given error and cause', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE_ARN,
        name: 'job-11',
        input: JSON.stringify({ jobId: 'job-11', files: ['slow-loop.py'] }),
      }),
    );

    const stopped = await client.send(new StopExecutionCommand({ executionArn, error: 'Terminated', cause: 'deployment deleted' }));
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));

    expect(stopped.stopDate).toBeInstanceOf(Date);
    expect(described).toMatchObject({ status: 'ABORTED', error: 'Terminated', cause: 'deployment deleted' });
    expect(described.stopDate?.getTime()).toBe(stopped.stopDate?.getTime());
  });

  it('lists executions filtered by status', async () => {
    const { executionArn } = await client.send(
      new StartExecutionCommand({
        stateMachineArn: STATE_MACHINE_ARN,
        name: 'job-12',
        input: JSON.stringify({ jobId: 'job-12', files: ['slow.py'] }),
      }),
    );
    await client.send(new StopExecutionCommand({ executionArn }));

    const listed = await client.send(new ListExecutionsCommand({ stateMachineArn: STATE_MACHINE_ARN, statusFilter: 'ABORTED' }));

    expect(listed.executions?.[0]).toMatchObject({ name: 'job-12', status: 'ABORTED', stateMachineArn: STATE_MACHINE_ARN });
    expect(listed.executions?.[0]?.startDate).toBeInstanceOf(Date);
    expect(listed.executions?.every((execution) => execution.status === 'ABORTED')).toBe(true);
  });

  it('describes the state machine with its definition', async () => {
    const described = await client.send(new DescribeStateMachineCommand({ stateMachineArn: STATE_MACHINE_ARN }));

    expect(described).toMatchObject({ name: 'CodeRunnerWorkflow', status: 'ACTIVE', type: 'STANDARD' });
    expect(JSON.parse(described.definition!).StartAt).toBe('PrepareSandbox');
  });
});
