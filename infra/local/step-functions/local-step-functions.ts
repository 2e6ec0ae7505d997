/**
 * One state machine run in-process by aws-local-stepfunctions, with the Step Functions API
 * semantics the application relies on: named, idempotent StartExecution; DescribeExecution;
 * StopExecution (no Catch runs); execution TimeoutSeconds; and the EventBridge status-change event.
 */
import { randomUUID } from 'node:crypto';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { StateMachineDefinition, StateMachineOptions } from 'aws-local-stepfunctions';
import type { DescribeExecutionOutput, ExecutionListItem, ExecutionStatus } from '@aws-sdk/client-sfn';
import { executionStatusChangeEvent } from './execution-status-event.ts';
import type { ExecutionStatusChangeEvent } from './execution-status-event.ts';
import type { LocalLambdaHandler } from './lambda-invoke.ts';
import { lambdaTasks, walkStates } from './lambda-tasks.ts';
import type { LambdaTask } from './lambda-tasks.ts';
import { StepFunctionsServiceError, executionDoesNotExist } from './service-errors.ts';
import { taskOverrides } from './task-overrides.ts';
import type { RawTaskHandler, TaskOverrideSettings } from './task-overrides.ts';

export type { LambdaLikeContext } from '../lambda-context.ts';
export type { LocalLambdaHandler } from './lambda-invoke.ts';
export type { ExecutionStatusChangeEvent } from './execution-status-event.ts';
export type { RawTaskHandler } from './task-overrides.ts';

export interface LocalStepFunctionsOptions {
  /** Plain ASL, e.g. from `resolveStateMachineDefinition`. */
  definition: StateMachineDefinition;
  /** `arn:aws:states:<region>:<account>:stateMachine:<name>`; execution ARNs are derived from it. */
  stateMachineArn: string;
  /** Handler per Lambda function logical id; every Lambda Task needs one. */
  handlers: Record<string, LocalLambdaHandler>;
  /** Overrides by state name for Tasks that are not Lambda invocations (e.g. SDK integrations). */
  taskHandlers?: Record<string, RawTaskHandler>;
  /** Milliseconds per Wait state name, instead of its Seconds/Timestamp. */
  waitTimeOverrides?: Record<string, number>;
  /** Replaces every Retry interval (milliseconds), so tests don't sleep through backoff. */
  retryIntervalMs?: number;
  /** Called once per execution with its terminal status (SUCCEEDED, FAILED, TIMED_OUT, ABORTED). */
  onStatusChange?: (event: ExecutionStatusChangeEvent) => void | Promise<void>;
  roleArn?: string;
  /**
   * TimeoutSeconds given to Tasks that set none. aws-local-stepfunctions would time them out after
   * 60 s; on AWS a Lambda Task is bounded by the function's timeout, at most 900 s.
   */
  defaultTaskTimeoutSeconds?: number;
  /** Largest task result in bytes before States.DataLimitExceeded (AWS: 256 KiB). */
  maxResultBytes?: number;
  validationOptions?: StateMachineOptions['validationOptions'];
}

export interface StartExecutionRequest {
  name?: string;
  /** JSON text as on the wire; any other value is serialized. Defaults to `{}`. */
  input?: unknown;
}

export interface StartExecutionResult {
  executionArn: string;
  startDate: Date;
}

type ExecutionEvent = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

interface ExecutionRecord {
  executionArn: string;
  name: string;
  input: string;
  startDate: Date;
  status: ExecutionStatus;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  events: ExecutionEvent[];
  eventsDrained: Promise<void>;
  abortRun: () => void;
  settled: PromiseWithResolvers<DescribeExecutionOutput>;
}

type Outcome = Pick<ExecutionRecord, 'status' | 'output' | 'error' | 'cause'>;

const DEFAULT_TASK_TIMEOUT_SECONDS = 900;
const MAX_RESULT_BYTES = 256 * 1024;
// What aws-local-stepfunctions reports for a Fail state without Error / Cause; AWS reports none.
const FAIL_STATE_DEFAULT_ERROR = 'FailStateError';
const FAIL_STATE_DEFAULT_CAUSE = 'Execution failed because of a Fail state';

export class LocalStepFunctions {
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  readonly definition: StateMachineDefinition;
  readonly roleArn: string;
  readonly creationDate = new Date();
  readonly #machine: StateMachine;
  readonly #timeoutMs: number | undefined;
  readonly #taskSettings: TaskOverrideSettings;
  readonly #options: LocalStepFunctionsOptions;
  readonly #executions = new Map<string, ExecutionRecord>();

  constructor(options: LocalStepFunctionsOptions) {
    this.#options = options;
    this.definition = options.definition;
    this.stateMachineArn = options.stateMachineArn;
    this.stateMachineName = stateMachineNameOf(options.stateMachineArn);
    this.roleArn = options.roleArn ?? `arn:aws:iam::${arnAccount(options.stateMachineArn)}:role/${this.stateMachineName}Role`;
    const tasks = lambdaTasks(options.definition);
    assertEveryTaskHasAHandler(options.definition, tasks, options);
    this.#taskSettings = {
      tasks,
      handlers: options.handlers,
      rawTaskHandlers: options.taskHandlers ?? {},
      defaultTimeoutSeconds: options.defaultTaskTimeoutSeconds ?? DEFAULT_TASK_TIMEOUT_SECONDS,
      maxResultBytes: options.maxResultBytes ?? MAX_RESULT_BYTES,
    };
    this.#timeoutMs = options.definition.TimeoutSeconds === undefined ? undefined : options.definition.TimeoutSeconds * 1000;
    this.#machine = new StateMachine(runnableDefinition(options.definition, this.#taskSettings.defaultTimeoutSeconds), {
      validationOptions: options.validationOptions,
    });
  }

  startExecution(request: StartExecutionRequest = {}): StartExecutionResult {
    const name = request.name ?? randomUUID();
    assertValidName(name);
    const input = inputText(request.input);
    const executionArn = this.#executionArn(name);
    const existing = this.#executions.get(executionArn);
    if (existing) {
      // AWS: same name and input while still running returns the original execution; otherwise
      // the name is taken (for 90 days).
      if (existing.status === 'RUNNING' && existing.input === input) return { executionArn, startDate: existing.startDate };
      throw new StepFunctionsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${executionArn}'`);
    }
    const record: ExecutionRecord = {
      executionArn,
      name,
      input,
      startDate: new Date(),
      status: 'RUNNING',
      events: [],
      eventsDrained: Promise.resolve(),
      abortRun: () => {},
      settled: Promise.withResolvers(),
    };
    this.#executions.set(executionArn, record);
    this.#launch(record);
    return { executionArn, startDate: record.startDate };
  }

  describeExecution(executionArn: string): DescribeExecutionOutput {
    return this.#describe(this.#record(executionArn));
  }

  stopExecution(executionArn: string, details: { error?: string; cause?: string } = {}): { stopDate: Date } {
    const record = this.#record(executionArn);
    // Stopping an execution that already ended changes nothing, as on AWS.
    this.#close(record, { status: 'ABORTED', error: details.error, cause: details.cause });
    return { stopDate: record.stopDate ?? new Date() };
  }

  listExecutions({ statusFilter }: { statusFilter?: ExecutionStatus } = {}): ExecutionListItem[] {
    // Newest first; reversing insertion order first keeps same-millisecond starts in that order too.
    return Array.from(this.#executions.values())
      .reverse()
      .filter((record) => statusFilter === undefined || record.status === statusFilter)
      .sort((a, b) => b.startDate.getTime() - a.startDate.getTime())
      .map((record) => this.#summary(record));
  }

  /** Resolves with the final DescribeExecution result once the execution ends. */
  waitForExecution(executionArn: string): Promise<DescribeExecutionOutput> {
    return this.#record(executionArn).settled.promise;
  }

  /** Per-state events so far (entered, exited, failed, retried, caught, Map iterations). */
  executionEvents(executionArn: string): readonly ExecutionEvent[] {
    return this.#record(executionArn).events;
  }

  /** Aborts every running execution, e.g. at shutdown. */
  stopAll(details: { error?: string; cause?: string } = {}): void {
    for (const record of this.#executions.values()) {
      this.#close(record, { status: 'ABORTED', error: details.error, cause: details.cause });
    }
  }

  #launch(record: ExecutionRecord): void {
    const isClosed = () => record.status !== 'RUNNING';
    const execution = this.#machine.run(JSON.parse(record.input), {
      overrides: {
        taskResourceLocalHandlers: taskOverrides(this.#taskSettings, isClosed),
        waitTimeOverrides: this.#options.waitTimeOverrides,
        retryIntervalOverrides: this.#retryIntervalOverrides(),
      },
      context: this.#contextObject(record),
      // Stop and timeout are decided here: the run's result is ignored once the record is closed.
      noThrowOnAbort: true,
    });
    record.abortRun = execution.abort;
    record.eventsDrained = collectEvents(execution.eventLogs, record.events);
    const timer =
      this.#timeoutMs === undefined
        ? undefined
        : setTimeout(() => this.#close(record, { status: 'TIMED_OUT', error: 'States.Timeout' }), this.#timeoutMs);
    execution.result
      .then(
        (output) => this.#close(record, { status: 'SUCCEEDED', output: JSON.stringify(output) }),
        (error: unknown) => this.#close(record, { status: 'FAILED', ...failureOf(error) }),
      )
      .finally(() => clearTimeout(timer));
  }

  /** Ends a running execution once; later outcomes (a run finishing after a stop) are ignored. */
  #close(record: ExecutionRecord, outcome: Outcome): void {
    if (record.status !== 'RUNNING') return;
    Object.assign(record, outcome, { stopDate: new Date() });
    // The status changes first, so task overrides already see the execution as closed.
    if (outcome.status === 'ABORTED' || outcome.status === 'TIMED_OUT') record.abortRun();
    const description = this.#describe(record);
    // Waiters and listeners run once the final events are recorded, so executionEvents() is complete.
    void untilDrained(record.eventsDrained).then(() => {
      record.settled.resolve(description);
      this.#notify(description);
    });
  }

  #notify(description: DescribeExecutionOutput): void {
    const listener = this.#options.onStatusChange;
    if (!listener) return;
    const report = (error: unknown) => console.error('LocalStepFunctions: onStatusChange listener failed', error);
    try {
      Promise.resolve(listener(executionStatusChangeEvent(description))).catch(report);
    } catch (error) {
      report(error);
    }
  }

  /** The fields ListExecutions and DescribeExecution share. */
  #summary(record: ExecutionRecord): ExecutionListItem {
    return {
      executionArn: record.executionArn,
      stateMachineArn: this.stateMachineArn,
      name: record.name,
      status: record.status,
      startDate: record.startDate,
      stopDate: record.stopDate,
    };
  }

  #describe(record: ExecutionRecord): DescribeExecutionOutput {
    return {
      ...this.#summary(record),
      input: record.input,
      inputDetails: { included: true },
      output: record.output,
      outputDetails: record.output === undefined ? undefined : { included: true },
      error: record.error,
      cause: record.cause,
      redriveCount: 0,
      redriveStatus: 'NOT_REDRIVABLE',
    };
  }

  #record(executionArn: string): ExecutionRecord {
    const record = this.#executions.get(executionArn);
    if (!record) throw executionDoesNotExist(executionArn);
    return record;
  }

  #executionArn(name: string): string {
    return `${this.stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }

  /** The Context Object (`$$`): aws-local-stepfunctions has no `Execution.Id` unless given one. */
  #contextObject(record: ExecutionRecord) {
    return {
      Execution: {
        Id: record.executionArn,
        Name: record.name,
        Input: JSON.parse(record.input),
        StartTime: record.startDate.toISOString(),
        RoleArn: this.roleArn,
        RedriveCount: 0,
      },
      StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineName },
    };
  }

  #retryIntervalOverrides(): Record<string, number> | undefined {
    const intervalMs = this.#options.retryIntervalMs;
    if (intervalMs === undefined) return undefined;
    const overrides: Record<string, number> = {};
    for (const [stateName, state] of walkStates(this.definition)) {
      if (state.Retry) overrides[stateName] = intervalMs;
    }
    return overrides;
  }
}

/**
 * The copy aws-local-stepfunctions runs: the execution timeout is handled by LocalStepFunctions
 * (so the status is set before anything is aborted), and Tasks without a timeout get a realistic one.
 */
function runnableDefinition(definition: StateMachineDefinition, defaultTaskTimeoutSeconds: number): StateMachineDefinition {
  const copy = structuredClone(definition);
  delete copy.TimeoutSeconds;
  for (const [, state] of walkStates(copy)) {
    if (state.Type === 'Task' && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined) {
      state.TimeoutSeconds = defaultTaskTimeoutSeconds;
    }
  }
  return copy;
}

/** A Task without a local handler would call the real AWS: refuse to start instead. */
function assertEveryTaskHasAHandler(
  definition: StateMachineDefinition,
  tasks: LambdaTask[],
  options: LocalStepFunctionsOptions,
): void {
  const rawHandled = new Set(Object.keys(options.taskHandlers ?? {}));
  const lambdaStates = new Set(tasks.map((task) => task.stateName));
  const missingFunctions = tasks
    .filter((task) => !options.handlers[task.functionLogicalId] && !rawHandled.has(task.stateName))
    .map((task) => `${task.functionLogicalId} (state ${task.stateName})`);
  const unsupportedTasks = Array.from(walkStates(definition))
    .filter(([name, state]) => state.Type === 'Task' && !lambdaStates.has(name) && !rawHandled.has(name))
    .map(([name, state]) => `${name} (${String(state.Resource)})`);
  const problems = [
    missingFunctions.length ? `no handler for Lambda function(s): ${[...new Set(missingFunctions)].join(', ')}` : '',
    unsupportedTasks.length ? `no taskHandlers entry for non-Lambda Task(s): ${unsupportedTasks.join(', ')}` : '',
  ].filter(Boolean);
  if (problems.length) throw new Error(`LocalStepFunctions: ${problems.join('; ')}`);
}

function failureOf(error: unknown): Pick<Outcome, 'error' | 'cause'> {
  // ExecutionError wraps the state's error; its name/message are the Error/Cause the state failed with.
  const failure = (error instanceof ExecutionError ? error.cause : error) as Error | undefined;
  const name = failure?.name;
  const message = failure?.message;
  return {
    error: name === FAIL_STATE_DEFAULT_ERROR ? undefined : name,
    cause: message === FAIL_STATE_DEFAULT_CAUSE ? undefined : message,
  };
}

const EVENT_DRAIN_LIMIT_MS = 250;

/** The run's event log ends with its terminal event; the limit only guards against one that never ends. */
function untilDrained(drained: Promise<void>): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  const timer = setTimeout(resolve, EVENT_DRAIN_LIMIT_MS);
  timer.unref();
  drained.then(resolve, resolve).finally(() => clearTimeout(timer));
  return promise;
}

async function collectEvents(events: AsyncGenerator<ExecutionEvent>, into: ExecutionEvent[]): Promise<void> {
  for await (const event of events) into.push(event);
}

function inputText(input: unknown): string {
  if (input === undefined) return '{}';
  const text = typeof input === 'string' ? input : JSON.stringify(input);
  try {
    JSON.parse(text);
  } catch (error) {
    throw new StepFunctionsServiceError('InvalidExecutionInput', `Invalid State Machine Execution Input: '${(error as Error).message}'`);
  }
  return text;
}

// Step Functions names: 1-80 characters, no whitespace, brackets, wildcards, listed punctuation or control characters.
const INVALID_NAME_CHARACTER = /[\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]/;

function assertValidName(name: string): void {
  if (name.length < 1 || name.length > 80 || INVALID_NAME_CHARACTER.test(name)) {
    throw new StepFunctionsServiceError('InvalidName', `Invalid Name: '${name}'`);
  }
}

function stateMachineNameOf(stateMachineArn: string): string {
  const match = /^arn:[^:]+:states:[^:]*:[^:]*:stateMachine:([^:]+)$/.exec(stateMachineArn);
  if (!match?.[1]) throw new Error(`Not a state machine ARN: ${stateMachineArn}`);
  return match[1];
}

function arnAccount(arn: string): string {
  return arn.split(':')[4] ?? '000000000000';
}
