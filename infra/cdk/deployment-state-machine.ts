/**
 * The deployment saga: Create → UploadBatches (Map) → Start → Health (polled) → Running.
 * Every step has a timeout, retries transient errors by name with backoff and jitter, and a
 * Catch that records the failed step and leads to Kill (the kill handler: the saga's compensation), after
 * which the execution fails.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeWildcardResource } from './nag-acknowledgements.ts';
import { PROBE_WAIT_STATE } from './state-names.ts';

export interface DeploymentStateMachineProps {
  create: IFunction;
  uploadBatch: IFunction;
  start: IFunction;
  health: IFunction;
  kill: IFunction;
  uploadConcurrency?: number;
  /** Pause between health probes. */
  probeInterval?: Duration;
  /** No execution lives longer than this, whatever happens inside. */
  executionTimeout?: Duration;
  logRetention?: RetentionDays;
}

/** Errors worth trying again: the provider throttled or failed on its side, or a write raced. */
const TRANSIENT_ERRORS = [
  'SandboxRateLimitedError',
  'SandboxUnavailableError',
  // An invocation that ran short of time for a call: a fresh invocation has the whole timeout.
  'SandboxDeadlineError',
  'StepTimeBudgetError',
  'Lambda.TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
];

export { PROBE_WAIT_STATE };

export class DeploymentStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: DeploymentStateMachineProps) {
    super(scope, id);
    const execution = { deploymentId: sfn.JsonPath.stringAt('$.deploymentId'), executionArn: sfn.JsonPath.executionId };

    const kill = this.#invoke('Kill', props.kill, sfn.TaskInput.fromJsonPathAt('$'), Duration.seconds(120), { resultPath: '$.kill' });
    kill.addCatch(new sfn.Fail(this, 'KillFailed', { error: 'KillFailed', cause: 'the kill step itself failed; the sweep reaps what is left' }), { resultPath: '$.killError' });
    kill.next(new sfn.Fail(this, 'DeploymentFailed', { errorPath: '$.error.Error', causePath: '$.error.Cause' }));

    const failedAt = (step: string) =>
      new sfn.Pass(this, `Record${step[0]!.toUpperCase()}${step.slice(1)}Failure`, {
        parameters: { 'deploymentId.$': '$.deploymentId', executionArn: sfn.JsonPath.executionId, failedStep: step, 'error.$': '$.error' },
      }).next(kill);

    const create = this.#invoke('Create', props.create, sfn.TaskInput.fromObject(execution), Duration.seconds(90), {
      resultSelector: { 'sandboxId.$': '$.Payload.sandboxId' },
      resultPath: '$.sandbox',
    });
    create.addCatch(failedAt('create'), { resultPath: '$.error' });

    const uploadBatch = this.#invoke(
      'UploadBatch',
      props.uploadBatch,
      sfn.TaskInput.fromJsonPathAt('$'),
      Duration.seconds(120),
      { resultSelector: { 'files.$': '$.Payload.files' } },
    );
    const uploadBatches = new sfn.Map(this, 'UploadBatches', {
      itemsPath: '$.batches',
      maxConcurrency: props.uploadConcurrency ?? 4,
      itemSelector: { 'deploymentId.$': '$.deploymentId', executionArn: sfn.JsonPath.executionId, 'batch.$': '$$.Map.Item.Value' },
      // Keep the execution's payload small: the per-batch results are recorded in DynamoDB.
      resultPath: sfn.JsonPath.DISCARD,
    });
    uploadBatches.itemProcessor(uploadBatch);
    uploadBatches.addCatch(failedAt('upload'), { resultPath: '$.error' });

    const start = this.#invoke('Start', props.start, sfn.TaskInput.fromObject(execution), Duration.seconds(910), {
      resultPath: sfn.JsonPath.DISCARD,
    });
    start.addCatch(failedAt('start'), { resultPath: '$.error' });

    const health = this.#invoke('Health', props.health, sfn.TaskInput.fromObject(execution), Duration.seconds(30), {
      resultSelector: { 'healthy.$': '$.Payload.healthy' },
      resultPath: '$.health',
    });
    health.addCatch(failedAt('health'), { resultPath: '$.error' });
    const wait = new sfn.Wait(this, PROBE_WAIT_STATE, { time: sfn.WaitTime.duration(props.probeInterval ?? Duration.seconds(2)) });
    const running = new sfn.Succeed(this, 'Running');
    const healthy = new sfn.Choice(this, 'Healthy?')
      .when(sfn.Condition.booleanEquals('$.health.healthy', true), running)
      .otherwise(wait.next(health));

    const definition = create.next(uploadBatches).next(start).next(health).next(healthy);
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      timeout: props.executionTimeout ?? Duration.hours(1),
      tracingEnabled: true,
      logs: {
        destination: new LogGroup(this, 'Logs', {
          // The vendedlogs prefix keeps CloudWatch's resource policy for Step Functions small.
          logGroupName: `/aws/vendedlogs/states/${Stack.of(this).stackName}-${id}`,
          retention: props.logRetention ?? RetentionDays.ONE_MONTH,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        level: sfn.LogLevel.ERROR,
        includeExecutionData: false,
      },
    });
    this.#acknowledgeNagFindings([props.create, props.uploadBatch, props.start, props.health, props.kill]);
  }

  #acknowledgeNagFindings(functions: IFunction[]): void {
    acknowledge(
      this.stateMachine,
      'SF1',
      'Logs at ERROR level without execution data: every failed state and every failed, timed-out or aborted execution is logged, ' +
        'while ALL would log each transition of every deployment (the health probe loop included) and execution data would copy ' +
        'deployment and sandbox details into the logs; the deployment record and the X-Ray trace keep the rest.',
    );
    acknowledge(
      this.stateMachine,
      'IAM5[Resource::*]',
      'X-Ray (PutTraceSegments, PutTelemetryRecords, GetSampling*) and the CloudWatch Logs delivery actions Step Functions needs ' +
        'for logging (CreateLogDelivery and friends) have no resource-level permissions: AWS requires "*" for them.',
    );
    for (const fn of functions) {
      acknowledgeWildcardResource(
        this.stateMachine,
        `${fn.functionArn}:*`,
        "LambdaInvoke's grant: the function and its versions and aliases (<function ARN>:*), one function of this saga only.",
      );
    }
  }

  #invoke(id: string, fn: IFunction, payload: sfn.TaskInput, timeout: Duration, options: Partial<tasks.LambdaInvokeProps>): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this, id, {
      lambdaFunction: fn,
      payload,
      taskTimeout: sfn.Timeout.duration(timeout),
      retryOnServiceExceptions: true,
      ...options,
    });
    task.addRetry({
      errors: TRANSIENT_ERRORS,
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 4,
      maxDelay: Duration.seconds(30),
      jitterStrategy: sfn.JitterType.FULL,
    });
    return task;
  }
}
