/**
 * The `overrides.taskResourceLocalHandlers` of one execution: every Lambda Task runs its local
 * handler through the reproduced Lambda integration, since aws-local-stepfunctions would
 * otherwise call the real AWS Lambda.
 */
import type { RunOptions } from 'aws-local-stepfunctions';
import { createLambdaContext } from '../lambda-context.ts';
import { LambdaFunctionError, lambdaErrorDocument, lambdaInvokeResult, throughJson } from './lambda-invoke.ts';
import type { LocalLambdaHandler } from './lambda-invoke.ts';
import type { LambdaTask } from './lambda-tasks.ts';

type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;
type TaskHandler = TaskHandlers[string];
type JsonValue = Awaited<ReturnType<TaskHandler>>;

/** A Task override for a non-Lambda integration: gets the state's effective input, returns its result. */
export type RawTaskHandler = (input: unknown) => unknown;

export interface TaskOverrideSettings {
  tasks: LambdaTask[];
  handlers: Record<string, LocalLambdaHandler>;
  rawTaskHandlers: Record<string, RawTaskHandler>;
  /** Used for `getRemainingTimeInMillis()` when the Task has no literal TimeoutSeconds. */
  defaultTimeoutSeconds: number;
  /** Step Functions' 256 KiB limit on a state's result. */
  maxResultBytes: number;
}

/** `isClosed` reports that the execution was stopped or timed out: nothing may run after that. */
export function taskOverrides(settings: TaskOverrideSettings, isClosed: () => boolean): TaskHandlers {
  const overrides: TaskHandlers = {};
  for (const task of settings.tasks) {
    const handler = settings.handlers[task.functionLogicalId];
    if (handler) overrides[task.stateName] = lambdaTaskHandler(task, handler, settings, isClosed);
  }
  for (const [stateName, rawHandler] of Object.entries(settings.rawTaskHandlers)) {
    overrides[stateName] = rawTaskHandler(stateName, rawHandler, settings, isClosed);
  }
  return overrides;
}

function lambdaTaskHandler(
  task: LambdaTask,
  handler: LocalLambdaHandler,
  settings: TaskOverrideSettings,
  isClosed: () => boolean,
): TaskHandler {
  return async (taskInput) => {
    assertOpen(isClosed);
    const event = task.integration === 'invoke' ? invokePayload(taskInput) : taskInput;
    const context = createLambdaContext({
      functionName: task.functionLogicalId,
      invokedFunctionArn: task.functionArn,
      timeoutMs: (task.timeoutSeconds ?? settings.defaultTimeoutSeconds) * 1000,
    });
    let result: unknown;
    try {
      result = await handler(throughJson(event), context);
    } catch (thrown) {
      assertOpen(isClosed);
      throw new LambdaFunctionError(lambdaErrorDocument(thrown));
    }
    assertOpen(isClosed);
    const payload = throughJson(result);
    const taskResult = task.integration === 'invoke' ? lambdaInvokeResult(payload, context.awsRequestId) : payload;
    return withinDataLimit(task.stateName, taskResult, settings.maxResultBytes) as JsonValue;
  };
}

function rawTaskHandler(
  stateName: string,
  handler: RawTaskHandler,
  settings: TaskOverrideSettings,
  isClosed: () => boolean,
): TaskHandler {
  return async (taskInput) => {
    assertOpen(isClosed);
    const result = throughJson(await handler(throughJson(taskInput)));
    assertOpen(isClosed);
    return withinDataLimit(stateName, result, settings.maxResultBytes) as JsonValue;
  };
}

/** `{FunctionName, Payload}` from CDK's LambdaInvoke; Lambda receives `{}` when no Payload is sent. */
function invokePayload(taskInput: unknown): unknown {
  if (taskInput && typeof taskInput === 'object' && 'Payload' in taskInput) return taskInput.Payload;
  return {};
}

/**
 * aws-local-stepfunctions reads `isRetryable` / `isCatchable` from a thrown error. After a stop or
 * timeout its retry sleep returns at once and would call the handler again, and a late failure of
 * the handler already running would reach a Catch: on AWS neither happens.
 */
class ExecutionClosedError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor() {
    super('The execution was stopped or timed out');
    this.name = 'ExecutionClosed';
  }
}

function assertOpen(isClosed: () => boolean): void {
  if (isClosed()) throw new ExecutionClosedError();
}

/** On AWS, States.DataLimitExceeded fails the execution: neither Retry nor `States.ALL` catches it. */
class DataLimitExceededError extends Error {
  readonly isRetryable = false;
  readonly isCatchable = false;

  constructor(stateName: string) {
    super(`The state/task '${stateName}' returned a result with a size exceeding the maximum number of bytes service limit.`);
    this.name = 'States.DataLimitExceeded';
  }
}

function withinDataLimit(stateName: string, result: unknown, maxBytes: number): unknown {
  if (Buffer.byteLength(JSON.stringify(result)) > maxBytes) throw new DataLimitExceededError(stateName);
  return result;
}
