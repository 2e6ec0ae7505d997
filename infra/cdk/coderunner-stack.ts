/**
 * CodeRunner in one stack: the deployments table, the staging bucket, the Lambda functions, the
 * deployment state machine and the HTTP API with its JWT authorizer.
 */
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpMethod, HttpNoneAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, Billing, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Architecture, Runtime, type CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption } from 'aws-cdk-lib/aws-s3';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Schedule, ScheduleExpression } from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke as ScheduledLambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { DEPLOYMENTS_TABLE_KEYS } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import { DeploymentStateMachine } from './deployment-state-machine.ts';
import { HANDLERS, ROUTES, type HandlerName } from './handlers.ts';
import { LAMBDA_BUNDLING } from './lambda-bundling.ts';

export interface CodeRunnerStackProps extends StackProps {
  /** Name or ARN of the Secrets Manager secret that holds the AgentSphere API key. */
  agentSphereApiKeySecret: string;
  agentSphereDomain?: string;
  /** JWT issuer (e.g. a Cognito user pool or an OIDC provider URL) and accepted audiences. */
  jwtIssuer: string;
  jwtAudience: string[];
  logRetention?: RetentionDays;
  /** Where the project root is (handler entries are relative to it). */
  projectRoot: string;
  /** How often the sweep runs. */
  sweepInterval?: Duration;
}

interface FunctionSettings {
  timeout: Duration;
  memorySize?: number;
}

const FUNCTION_SETTINGS: Record<HandlerName, FunctionSettings> = {
  apiCreateDeployment: { timeout: Duration.seconds(29), memorySize: 1024 },
  apiGetDeployment: { timeout: Duration.seconds(10) },
  apiDeleteDeployment: { timeout: Duration.seconds(29) },
  apiListDeployments: { timeout: Duration.seconds(10) },
  apiListSandboxes: { timeout: Duration.seconds(10) },
  apiKeepalive: { timeout: Duration.seconds(15) },
  apiDeploymentHealth: { timeout: Duration.seconds(15) },
  apiDeploymentLogs: { timeout: Duration.seconds(29) },
  apiOpenApi: { timeout: Duration.seconds(5), memorySize: 256 },
  create: { timeout: Duration.seconds(80) },
  uploadBatch: { timeout: Duration.seconds(110), memorySize: 1024 },
  // Install and build run inside it (a Next.js install and build takes about 40 s here, large apps minutes).
  start: { timeout: Duration.minutes(15) },
  health: { timeout: Duration.seconds(25) },
  kill: { timeout: Duration.seconds(110) },
  sweep: { timeout: Duration.minutes(2) },
  executionStatusChange: { timeout: Duration.seconds(110) },
};

export class CodeRunnerStack extends Stack {
  readonly functions: Record<HandlerName, NodejsFunction>;
  readonly deploymentsTable: TableV2;
  readonly idempotencyTable: TableV2;
  readonly stagingBucket: Bucket;
  readonly stateMachine: DeploymentStateMachine;
  readonly api: HttpApi;
  readonly cleanupDeadLetters: Queue;

  constructor(scope: Construct, id: string, props: CodeRunnerStackProps) {
    super(scope, id, props);

    this.deploymentsTable = new TableV2(this, 'Deployments', {
      partitionKey: { name: DEPLOYMENTS_TABLE_KEYS.partitionKey, type: AttributeType.STRING },
      sortKey: { name: DEPLOYMENTS_TABLE_KEYS.sortKey, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      globalSecondaryIndexes: [
        // A caller's deployments (and their sandboxes), newest first ...
        {
          indexName: DEPLOYMENTS_TABLE_KEYS.byOwnerIndex,
          partitionKey: { name: 'gsi1pk', type: AttributeType.STRING },
          sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
        },
        // ... and by project.
        {
          indexName: DEPLOYMENTS_TABLE_KEYS.byOwnerProjectIndex,
          partitionKey: { name: 'gsi2pk', type: AttributeType.STRING },
          sortKey: { name: 'gsi2sk', type: AttributeType.STRING },
        },
        // Sparse: only records with a live sandbox carry activePartition; the sweep reads expiries here.
        {
          indexName: DEPLOYMENTS_TABLE_KEYS.activeByExpiryIndex,
          partitionKey: { name: 'activePartition', type: AttributeType.STRING },
          sortKey: { name: 'expiresAt', type: AttributeType.STRING },
        },
        // Sparse: only records the saga is working on; the sweep finds stuck ones here.
        {
          indexName: DEPLOYMENTS_TABLE_KEYS.inFlightIndex,
          partitionKey: { name: 'inFlightPartition', type: AttributeType.STRING },
          sortKey: { name: 'stepStartedAt', type: AttributeType.STRING },
        },
      ],
      // Housekeeping items (the sweep's claims) expire; correctness never waits for TTL.
      timeToLiveAttribute: DEPLOYMENTS_TABLE_KEYS.timeToLive,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.idempotencyTable = new TableV2(this, 'Idempotency', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billing: Billing.onDemand(),
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.stagingBucket = new Bucket(this, 'Staging', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // Staged files are only needed while a deployment uploads; whatever is left expires.
      lifecycleRules: [{ id: 'expire-staged-files', expiration: Duration.days(1), abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const apiKeySecret = secretFrom(this, props.agentSphereApiKeySecret);
    const environment: Record<string, string> = {
      DEPLOYMENTS_TABLE: this.deploymentsTable.tableName,
      IDEMPOTENCY_TABLE: this.idempotencyTable.tableName,
      STAGING_BUCKET: this.stagingBucket.bucketName,
      AGENTSPHERE_API_KEY_SECRET: apiKeySecret.secretArn,
      AGENTSPHERE_DOMAIN: props.agentSphereDomain ?? 'agentsphere.run',
      POWERTOOLS_SERVICE_NAME: 'coderunner',
      POWERTOOLS_METRICS_NAMESPACE: 'CodeRunner',
      NODE_OPTIONS: '--enable-source-maps',
    };
    this.functions = Object.fromEntries(
      (Object.keys(HANDLERS) as HandlerName[]).map((name) => [name, this.#function(name, props, environment)]),
    ) as Record<HandlerName, NodejsFunction>;
    const fns = this.functions;

    this.stateMachine = new DeploymentStateMachine(this, 'DeploymentSaga', {
      create: fns.create,
      uploadBatch: fns.uploadBatch,
      start: fns.start,
      health: fns.health,
      kill: fns.kill,
    });
    fns.apiCreateDeployment.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachine.stateMachineArn);

    // Least privilege: each function gets exactly what it touches.
    this.deploymentsTable.grantReadWriteData(fns.apiCreateDeployment);
    this.idempotencyTable.grantReadWriteData(fns.apiCreateDeployment);
    this.stagingBucket.grantPut(fns.apiCreateDeployment);
    this.stagingBucket.grantRead(fns.apiCreateDeployment);
    this.stagingBucket.grantDelete(fns.apiCreateDeployment);
    this.stateMachine.stateMachine.grantStartExecution(fns.apiCreateDeployment);
    for (const fn of [fns.apiGetDeployment, fns.apiListDeployments, fns.apiListSandboxes, fns.apiDeploymentHealth, fns.apiDeploymentLogs]) {
      this.deploymentsTable.grantReadData(fn);
    }
    for (const fn of [fns.apiDeploymentHealth, fns.apiDeploymentLogs, fns.apiKeepalive, fns.apiCreateDeployment]) apiKeySecret.grantRead(fn);
    this.deploymentsTable.grantReadWriteData(fns.apiKeepalive);
    for (const fn of [fns.apiDeleteDeployment, fns.create, fns.uploadBatch, fns.start, fns.health, fns.kill, fns.sweep, fns.executionStatusChange]) {
      this.deploymentsTable.grantReadWriteData(fn);
      apiKeySecret.grantRead(fn);
    }
    this.stagingBucket.grantRead(fns.create);
    this.stagingBucket.grantRead(fns.start);
    this.stagingBucket.grantRead(fns.health);
    this.stagingBucket.grantDelete(fns.health);
    this.stagingBucket.grantRead(fns.uploadBatch);
    this.stagingBucket.grantRead(fns.kill);
    this.stagingBucket.grantDelete(fns.kill);

    this.api = new HttpApi(this, 'Api', {
      description: 'CodeRunner: deploy projects into sandboxes',
      defaultAuthorizer: new HttpJwtAuthorizer('JwtAuthorizer', props.jwtIssuer, { jwtAudience: props.jwtAudience }),
    });
    for (const route of ROUTES) {
      const [method, path] = route.routeKey.split(' ') as [keyof typeof HttpMethod, string];
      this.api.addRoutes({
        path,
        methods: [HttpMethod[method]],
        integration: new HttpLambdaIntegration(`${route.handler}Integration`, fns[route.handler]),
        ...(route.public ? { authorizer: new HttpNoneAuthorizer() } : {}),
      });
    }

    this.cleanupDeadLetters = this.#backstops(props);

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachine.stateMachineArn });
  }

  /**
   * What the saga's Catch cannot cover: the scheduled sweep, cleanup on execution status
   * changes (timeouts, aborts, uncatchable errors), a dead-letter queue for cleanups that failed
   * every retry, and alarms.
   */
  #backstops(props: CodeRunnerStackProps): Queue {
    const { sweep, executionStatusChange } = this.functions;
    const stateMachine = this.stateMachine.stateMachine;
    for (const fn of [sweep, executionStatusChange]) {
      this.deploymentsTable.grantReadWriteData(fn);
      this.stagingBucket.grantRead(fn);
      this.stagingBucket.grantDelete(fn);
    }
    stateMachine.grantRead(sweep);

    new Schedule(this, 'SweepSchedule', {
      description: 'CodeRunner sweep: expired, stuck, orphaned and lost sandboxes',
      schedule: ScheduleExpression.rate(props.sweepInterval ?? Duration.minutes(5)),
      target: new ScheduledLambdaInvoke(sweep, { retryAttempts: 0 }),
    });

    const deadLetters = new Queue(this, 'CleanupDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    executionStatusChange.configureAsyncInvoke({ retryAttempts: 2, onFailure: new SqsDestination(deadLetters) });
    new Rule(this, 'ExecutionEndedRule', {
      description: 'Clean up deployments whose execution failed, timed out or was aborted',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { status: ['FAILED', 'TIMED_OUT', 'ABORTED'], stateMachineArn: [stateMachine.stateMachineArn] },
      },
      targets: [new LambdaFunction(executionStatusChange, { deadLetterQueue: deadLetters, retryAttempts: 4, maxEventAge: Duration.hours(2) })],
    });

    const metric = (metricName: string) =>
      new Metric({ namespace: 'CodeRunner', metricName, dimensionsMap: { service: 'coderunner' }, statistic: 'Sum', period: Duration.minutes(15) });
    const alarm = (id: string, description: string, source: Metric) =>
      new Alarm(this, id, {
        alarmDescription: description,
        metric: source,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    alarm('SweepErrorsAlarm', 'The sweep failed on some items', metric('SweepErrors'));
    alarm('OrphansFoundAlarm', 'The sweep killed orphaned sandboxes: some path leaks', metric('OrphansKilled'));
    alarm('CleanupDeadLettersAlarm', 'A cleanup failed every retry', deadLetters.metricApproximateNumberOfMessagesVisible());
    return deadLetters;
  }

  /** The CloudFormation logical id of a handler's function (how the local stack maps ASL tasks to handlers). */
  functionLogicalId(name: HandlerName): string {
    return this.getLogicalId(this.functions[name].node.defaultChild as CfnFunction);
  }

  #function(name: HandlerName, props: CodeRunnerStackProps, environment: Record<string, string>): NodejsFunction {
    const settings = FUNCTION_SETTINGS[name];
    const id = `${name[0]!.toUpperCase()}${name.slice(1)}Function`;
    return new NodejsFunction(this, id, {
      entry: `${props.projectRoot}/${HANDLERS[name]}`,
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: settings.memorySize ?? 512,
      timeout: settings.timeout,
      environment,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      projectRoot: props.projectRoot,
      logGroup: new LogGroup(this, `${id}Logs`, {
        retention: props.logRetention ?? RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      bundling: {
        format: OutputFormat.ESM,
        ...LAMBDA_BUNDLING,
        mainFields: [...LAMBDA_BUNDLING.mainFields],
        externalModules: [...LAMBDA_BUNDLING.externalModules],
      },
    });
  }
}

function secretFrom(scope: Construct, nameOrArn: string): ISecret {
  return nameOrArn.startsWith('arn:')
    ? Secret.fromSecretCompleteArn(scope, 'AgentSphereApiKey', nameOrArn)
    : Secret.fromSecretNameV2(scope, 'AgentSphereApiKey', nameOrArn);
}
