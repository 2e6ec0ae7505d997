import { describe, expect, it } from 'vitest';
import middy from '@middy/core';
import { LocalStepFunctions } from '../../../infra/local/step-functions/local-step-functions.ts';
import type {
  ExecutionStatusChangeEvent,
  LambdaLikeContext,
  LocalLambdaHandler,
  LocalStepFunctionsOptions,
} from '../../../infra/local/step-functions/local-step-functions.ts';
import { resolveStateMachineDefinition } from '../../../infra/local/step-functions/resolve-definition.ts';
import { FUNCTIONS, STATE_MACHINE_ARN, UploadFailedError, delay, gate, loadWorkflowTemplate } from './workflow-fixture.ts';

const definition = resolveStateMachineDefinition(loadWorkflowTemplate());
const JOB_INPUT = { jobId: 'job-1', files: ['a.py', 'b.py', 'c.py', 'd.py', 'e.py'] };

interface Calls {
  prepareSandbox: unknown[];
  runFile: unknown[];
  cleanup: unknown[];
}

/** Handlers that succeed and record what they receive; override any of them per test. */
function workflowHandlers(overrides: Partial<Record<keyof typeof FUNCTIONS, LocalLambdaHandler>> = {}) {
  const calls: Calls = { prepareSandbox: [], runFile: [], cleanup: [] };
  const record =
    (name: keyof Calls, handler: LocalLambdaHandler): LocalLambdaHandler =>
    (event, context) => {
      calls[name].push(event);
      return handler(event, context);
    };
  const handlers = {
    [FUNCTIONS.prepareSandbox]: record(
      'prepareSandbox',
      overrides.prepareSandbox ??
        (async (event) => ({ sandboxId: 'sbx-1', executionId: (event as { executionId: string }).executionId })),
    ),
    [FUNCTIONS.runFile]: record(
      'runFile',
      overrides.runFile ?? (async (event) => ({ ...(event as object), exitCode: 0 })),
    ),
    [FUNCTIONS.cleanup]: record('cleanup', overrides.cleanup ?? (async () => ({ removed: true }))),
  };
  return { handlers, calls };
}

function createWorkflow(options: Partial<LocalStepFunctionsOptions> & Pick<LocalStepFunctionsOptions, 'handlers'>) {
  const statusEvents: ExecutionStatusChangeEvent[] = [];
  const service = new LocalStepFunctions({
    definition,
    stateMachineArn: STATE_MACHINE_ARN,
    retryIntervalMs: 0,
    onStatusChange: (event) => {
      statusEvents.push(event);
    },
    ...options,
  });
  return { service, statusEvents };
}

describe('running the workflow locally', () => {
  it('succeeds with every file run by the Map and the execution id passed to the first task', async () => {
    const { handlers, calls } = workflowHandlers();
    const { service } = createWorkflow({ handlers });

    const { executionArn } = service.startExecution({ name: 'job-1', input: JOB_INPUT });
    const result = await service.waitForExecution(executionArn);

    expect(executionArn).toBe('arn:aws:states:local:000000000000:execution:CodeRunnerWorkflow:job-1');
    expect(result).toMatchObject({ status: 'SUCCEEDED', name: 'job-1', input: JSON.stringify(JOB_INPUT) });
    expect(JSON.parse(result.output!)).toEqual({
      ...JOB_INPUT,
      sandbox: { sandboxId: 'sbx-1', executionId: executionArn },
      results: JOB_INPUT.files.map((file, index) => ({ file, index, sandboxId: 'sbx-1', exitCode: 0 })),
    });
    expect(calls.prepareSandbox).toEqual([{ ...JOB_INPUT, executionId: executionArn }]);
    expect(calls.cleanup).toEqual([{ jobId: 'job-1', sandboxId: 'sbx-1' }]);
  });

  it('runs no more Map iterations at once than MaxConcurrency', async () => {
    let running = 0;
    let mostAtOnce = 0;
    const { handlers } = workflowHandlers({
      runFile: async (event) => {
        running += 1;
        mostAtOnce = Math.max(mostAtOnce, running);
        await delay(15);
        running -= 1;
        return event;
      },
    });
    const { service } = createWorkflow({ handlers });

    const { executionArn } = service.startExecution({ input: JOB_INPUT });
    await service.waitForExecution(executionArn);

    expect(mostAtOnce).toBe(2);
  });

  it('gives handlers a Lambda-like context that a middy handler runs with', async () => {
    const contexts: LambdaLikeContext[] = [];
    const prepareSandbox = middy(async (event: { executionId: string }, context: LambdaLikeContext) => {
      contexts.push(context);
      return { sandboxId: 'sbx-2', executionId: event.executionId };
    });
    const { handlers } = workflowHandlers({ prepareSandbox });
    const { service } = createWorkflow({ handlers });

    const { executionArn } = service.startExecution({ input: JOB_INPUT });
    const result = await service.waitForExecution(executionArn);

    expect(result).toMatchObject({ status: 'SUCCEEDED', error: undefined });
    const [context] = contexts;
    expect(context).toMatchObject({
      functionName: FUNCTIONS.prepareSandbox,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${FUNCTIONS.prepareSandbox}`,
      awsRequestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      callbackWaitsForEmptyEventLoop: true,
    });
    // The Task's TimeoutSeconds is 30.
    expect(context!.getRemainingTimeInMillis()).toBeGreaterThan(25_000);
    expect(context!.getRemainingTimeInMillis()).toBeLessThanOrEqual(30_000);
  });

  it('retries an UploadFailedError per the Retry rule, then catches it with Lambda’s Error and Cause', async () => {
    const { handlers, calls } = workflowHandlers({
      prepareSandbox: async () => {
        throw new UploadFailedError('disk quota exceeded');
      },
    });
    const { service } = createWorkflow({ handlers });

    const { executionArn } = service.startExecution({ input: JOB_INPUT });
    const result = await service.waitForExecution(executionArn);

    // The first attempt plus MaxAttempts: 2.
    expect(calls.prepareSandbox).toHaveLength(3);
    expect(calls.runFile).toHaveLength(0);
    const [cleanupEvent] = calls.cleanup as { failedStep: string; error: { Error: string; Cause: string } }[];
    expect(cleanupEvent).toMatchObject({ failedStep: 'PrepareSandbox', jobId: 'job-1', error: { Error: 'UploadFailedError' } });
    const cause = JSON.parse(cleanupEvent!.error.Cause);
    expect(Object.keys(cause)).toEqual(['errorType', 'errorMessage', 'trace']);
    expect(cause).toMatchObject({ errorType: 'UploadFailedError', errorMessage: 'disk quota exceeded' });
    expect(cause.trace[0]).toBe('UploadFailedError: disk quota exceeded');
    expect(result).toMatchObject({
      status: 'FAILED',
      error: 'SandboxPreparationFailed',
      cause: 'Preparing the sandbox failed; see the execution history',
    });
    const retried = service.executionEvents(executionArn).filter((event) => event.type === 'StateRetried');
    expect(retried).toHaveLength(2);
  });

  it('stops a running execution as ABORTED without running its Catch, and reports the status change', async () => {
    const entered = gate();
    const release = gate();
    const { handlers, calls } = workflowHandlers({
      prepareSandbox: async () => {
        entered.resolve();
        await release.promise;
        throw new UploadFailedError('interrupted');
      },
    });
    const { service, statusEvents } = createWorkflow({ handlers });
    const { executionArn } = service.startExecution({ name: 'to-stop', input: JOB_INPUT });
    await entered.promise;

    service.stopExecution(executionArn, { error: 'Terminated', cause: 'cancelled by the user' });
    const described = service.describeExecution(executionArn);
    release.resolve();
    const final = await service.waitForExecution(executionArn);
    await delay(20);

    expect(described).toMatchObject({ status: 'ABORTED', error: 'Terminated', cause: 'cancelled by the user' });
    expect(final.status).toBe('ABORTED');
    expect(calls.prepareSandbox).toHaveLength(1);
    expect(calls.cleanup).toHaveLength(0);
    expect(statusEvents).toHaveLength(1);
    expect(statusEvents[0]).toMatchObject({
      'detail-type': 'Step Functions Execution Status Change',
      source: 'aws.states',
      resources: [executionArn],
      detail: {
        executionArn,
        stateMachineArn: STATE_MACHINE_ARN,
        name: 'to-stop',
        status: 'ABORTED',
        startDate: final.startDate!.getTime(),
        stopDate: final.stopDate!.getTime(),
        input: JSON.stringify(JOB_INPUT),
        output: null,
        error: 'Terminated',
        cause: 'cancelled by the user',
      },
    });
  });

  it('times out an execution that runs longer than the definition’s TimeoutSeconds', async () => {
    const release = gate();
    const { handlers, calls } = workflowHandlers({
      prepareSandbox: async () => {
        await release.promise;
        return { sandboxId: 'late' };
      },
    });
    const { service, statusEvents } = createWorkflow({ handlers, definition: { ...definition, TimeoutSeconds: 1 } });

    const { executionArn } = service.startExecution({ input: JOB_INPUT });
    const result = await service.waitForExecution(executionArn);
    release.resolve();
    await delay(20);

    expect(result).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(result.stopDate!.getTime() - result.startDate!.getTime()).toBeGreaterThanOrEqual(990);
    expect(calls.runFile).toHaveLength(0);
    expect(statusEvents.map((event) => event.detail.status)).toEqual(['TIMED_OUT']);
  });

  it('fails the execution with States.DataLimitExceeded when a task returns more than 256 KiB', async () => {
    const { handlers, calls } = workflowHandlers({ prepareSandbox: async () => ({ log: 'x'.repeat(300 * 1024) }) });
    const { service } = createWorkflow({ handlers });

    const { executionArn } = service.startExecution({ input: JOB_INPUT });
    const result = await service.waitForExecution(executionArn);

    // States.ALL does not catch it, so the cleanup branch never runs.
    expect(result).toMatchObject({ status: 'FAILED', error: 'States.DataLimitExceeded' });
    expect(calls.cleanup).toHaveLength(0);
  });
});

describe('the Step Functions API semantics', () => {
  it('returns the running execution again for the same name and input, and refuses another input', async () => {
    const release = gate();
    const { handlers } = workflowHandlers({
      prepareSandbox: async () => {
        await release.promise;
        return { sandboxId: 'sbx-1' };
      },
    });
    const { service } = createWorkflow({ handlers });

    const first = service.startExecution({ name: 'deployment-7', input: JOB_INPUT });
    const again = service.startExecution({ name: 'deployment-7', input: JSON.stringify(JOB_INPUT) });
    const conflicting = () => service.startExecution({ name: 'deployment-7', input: { jobId: 'other' } });

    expect(again).toEqual(first);
    expect(conflicting).toThrow(expect.objectContaining({ name: 'ExecutionAlreadyExists' }));
    release.resolve();
    await service.waitForExecution(first.executionArn);
    // Once the execution is closed, the name stays taken even with the same input.
    expect(() => service.startExecution({ name: 'deployment-7', input: JOB_INPUT })).toThrow(
      expect.objectContaining({ name: 'ExecutionAlreadyExists' }),
    );
  });

  it('reports an unknown execution as ExecutionDoesNotExist', () => {
    const { handlers } = workflowHandlers();
    const { service } = createWorkflow({ handlers });

    const describing = () => service.describeExecution(`${STATE_MACHINE_ARN.replace('stateMachine', 'execution')}:nope`);

    expect(describing).toThrow(expect.objectContaining({ name: 'ExecutionDoesNotExist' }));
  });

  it('lists executions newest first, filtered by status', async () => {
    const { handlers } = workflowHandlers();
    const { service } = createWorkflow({ handlers });
    const done = service.startExecution({ name: 'done', input: JOB_INPUT });
    await service.waitForExecution(done.executionArn);
    const stopped = service.startExecution({ name: 'stopped', input: JOB_INPUT });
    service.stopExecution(stopped.executionArn);

    const all = service.listExecutions();
    const succeeded = service.listExecutions({ statusFilter: 'SUCCEEDED' });

    expect(all.map((execution) => execution.name)).toEqual(['stopped', 'done']);
    expect(succeeded.map((execution) => execution.name)).toEqual(['done']);
  });

  it('refuses to start without a handler for every Lambda function the workflow invokes', () => {
    const { handlers } = workflowHandlers();
    delete (handlers as Record<string, unknown>)[FUNCTIONS.runFile];

    const creating = () => new LocalStepFunctions({ definition, stateMachineArn: STATE_MACHINE_ARN, handlers });

    expect(creating).toThrow(`no handler for Lambda function(s): ${FUNCTIONS.runFile} (state RunFile)`);
  });
});
