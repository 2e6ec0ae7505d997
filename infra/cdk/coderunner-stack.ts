/**
 * CodeRunner in one stack: the deployments table, the staging bucket, the Lambda functions, the
 * deployment state machine and the HTTP API with its JWT authorizer.
 */
import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpMethod, HttpNoneAuthorizer, LogGroupLogDestination } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { AttributeType, Billing, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
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
import { DEPLOYMENTS_TABLE_KEYS } from '../../functions/shared/adapters/deployments-table-keys.ts';
import { STAGING_KEY_PREFIX } from '../../functions/shared/adapters/s3-file-staging.ts';
import { BLOB_KEY_PREFIX } from '../../functions/shared/adapters/s3-blob-store.ts';
import { DEPENDENCY_CACHE_PREFIX } from '../../functions/shared/adapters/s3-dependency-cache.ts';
import { DEFAULT_UPLOAD_SETTINGS } from '../../functions/shared/deployments/manifest/manifest-limits.ts';
import { SAVED_LOGS_PREFIX } from '../../functions/shared/adapters/s3-log-archive.ts';
import { DEFAULT_QUOTA_LIMITS, type QuotaLimits } from '../../functions/shared/deployments/quotas/quota-limits.ts';

/** Reading a user's quota items (limits, held slots, this minute's starts), and taking or giving back slots. */
const QUOTA_READ_ACTIONS = ['GetItem', 'Query'];
const QUOTA_WRITE_ACTIONS = ['GetItem', 'Query', 'PutItem', 'UpdateItem', 'DeleteItem'];

const DEFAULT_API_THROTTLE = { rateLimit: 50, burstLimit: 100 };

/** The handlers read the quota defaults from their environment (quota-defaults.ts). */
function quotaEnvironment(limits: QuotaLimits): Record<string, string> {
  return {
    QUOTA_LIVE_SANDBOXES: String(limits.liveSandboxes),
    QUOTA_DEPLOYMENTS_IN_FLIGHT: String(limits.deploymentsInFlight),
    QUOTA_DEPLOYMENTS_PER_MINUTE: String(limits.deploymentsPerMinute),
    MAX_SANDBOX_LIFETIME_SECONDS: String(limits.maxSandboxLifetimeSeconds),
  };
}
import { WEBHOOK_SECRETS_KEY } from '../../functions/shared/adapters/dynamodb-webhook-secrets.ts';

/** How long the logs of an ended deployment stay readable. */
const SAVED_LOGS_RETENTION_DAYS = 14;
/** Days a dependency cache entry lives after its save. */
const DEPENDENCY_CACHE_RETENTION_DAYS = 14;
import { AlarmNotifications } from './alarm-notifications.ts';
import { DeploymentStateMachine } from './deployment-state-machine.ts';
import { jwtIssuerParameter } from './jwt-issuer.ts';
import { LifecycleEvents } from './lifecycle-events.ts';
import { FUNCTION_ACCESS } from './function-access.ts';
import { HANDLERS, ROUTES, type HandlerName } from './handlers.ts';
import { LAMBDA_BUNDLING } from './lambda-bundling.ts';
import { acknowledge, acknowledgeWildcardResource } from './nag-acknowledgements.ts';

export interface CodeRunnerStackProps extends StackProps {
  /** Name or ARN of the Secrets Manager secret that holds the AgentSphere API key. */
  agentSphereApiKeySecret: string;
  agentSphereDomain?: string;
  /**
   * JWT issuer (e.g. a Cognito user pool or an OIDC provider URL) and accepted audiences. The
   * placeholder issuer synthesizes but is refused on deploy (jwt-issuer.ts).
   */
  jwtIssuer: string;
  jwtAudience: string[];
  logRetention?: RetentionDays;
  /** Where the project root is (handler entries are relative to it). */
  projectRoot: string;
  /** How often the sweep runs. */
  sweepInterval?: Duration;
  /** Default per-user quotas (a user's own limits are an item in the deployments table). */
  quotas?: Partial<QuotaLimits>;
  /** Requests per second across the HTTP API, and the burst above it. */
  apiThrottle?: { rateLimit: number; burstLimit: number };
  /** Subscribed to the alarm topic (context `alarmEmail`). */
  alarmEmail?: string;
}

interface FunctionSettings {
  timeout: Duration;
  memorySize?: number;
  /** Reserved concurrency: where a runaway would starve the account's other functions. */
  reservedConcurrency?: number;
}

const FUNCTION_SETTINGS: Record<HandlerName, FunctionSettings> = {
  // Quotas bound each user; this bounds all of them together (each request stages files in S3).
  apiCreateDeployment: { timeout: Duration.seconds(29), memorySize: 1024, reservedConcurrency: 50 },
  // Streams and hashes up to 500 MiB of uploads (memory is for CPU: the hashing is bounded).
  apiCompleteDeployment: { timeout: Duration.seconds(29), memorySize: 1769 },
  apiGetDeployment: { timeout: Duration.seconds(10) },
  apiDeleteDeployment: { timeout: Duration.seconds(29) },
  apiListDeployments: { timeout: Duration.seconds(10) },
  apiListSandboxes: { timeout: Duration.seconds(10) },
  apiKeepalive: { timeout: Duration.seconds(15) },
  apiDeploymentHealth: { timeout: Duration.seconds(15) },
  apiDeploymentLogs: { timeout: Duration.seconds(29) },
  apiDeploymentEvents: { timeout: Duration.seconds(10) },
  apiGetWebhookSecret: { timeout: Duration.seconds(10) },
  apiRotateWebhookSecret: { timeout: Duration.seconds(10) },
  apiOpenApi: { timeout: Duration.seconds(5), memorySize: 256 },
  apiQuotas: { timeout: Duration.seconds(10) },
  create: { timeout: Duration.seconds(80) },
  uploadBatch: { timeout: Duration.seconds(110), memorySize: 1024 },
  // Install and build run inside it (a Next.js install and build takes about 40 s here, large apps minutes).
  start: { timeout: Duration.minutes(15) },
  health: { timeout: Duration.seconds(25) },
  kill: { timeout: Duration.seconds(110) },
  // One sweep at a time: concurrent ones would only race for the same claims.
  sweep: { timeout: Duration.minutes(2), reservedConcurrency: 1 },
  executionStatusChange: { timeout: Duration.seconds(110) },
  // Three attempts of at most 5 s with backoff between them.
  deliverWebhook: { timeout: Duration.seconds(30), memorySize: 256 },
};

/** What Powertools idempotency does with its records. */
const IDEMPOTENCY_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'];

/** One JSON line per request; the caller is the JWT's sub ("-" on the public route). */
const API_ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    responseLatency: '$context.responseLatency',
    integrationLatency: '$context.integrationLatency',
    responseLength: '$context.responseLength',
    caller: '$context.authorizer.claims.sub',
    sourceIp: '$context.identity.sourceIp',
    authorizerError: '$context.authorizer.error',
    integrationError: '$context.integrationErrorMessage',
  }),
);

export class CodeRunnerStack extends Stack {
  readonly functions: Record<HandlerName, NodejsFunction>;
  readonly deploymentsTable: TableV2;
  readonly idempotencyTable: TableV2;
  readonly webhookSecretsTable: TableV2;
  readonly stagingBucket: Bucket;
  readonly stagingAccessLogs: Bucket;
  readonly stateMachine: DeploymentStateMachine;
  readonly api: HttpApi;
  readonly killDeadLetters: Queue;
  readonly lifecycleEvents: LifecycleEvents;
  readonly alarmNotifications: AlarmNotifications;

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
        // Sparse: a caller's records with a live sandbox (GET /sandboxes, reuse), never their history.
        {
          indexName: DEPLOYMENTS_TABLE_KEYS.activeByOwnerIndex,
          partitionKey: { name: 'activeOwner', type: AttributeType.STRING },
          sortKey: { name: 'gsi1sk', type: AttributeType.STRING },
        },
      ],
      // Housekeeping items (the sweep's claims) expire; correctness never waits for TTL.
      timeToLiveAttribute: DEPLOYMENTS_TABLE_KEYS.timeToLive,
      removalPolicy: RemovalPolicy.RETAIN,
      // Deleting the table (a console click, a stack replaced by hand) needs this turned off first.
      deletionProtection: true,
    });

    this.idempotencyTable = new TableV2(this, 'Idempotency', {
      partitionKey: { name: 'id', type: AttributeType.STRING },
      timeToLiveAttribute: 'expiration',
      billing: Billing.onDemand(),
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Its own table: only the roles that sign webhooks or show the secret may read it.
    this.webhookSecretsTable = new TableV2(this, 'WebhookSecrets', {
      partitionKey: { name: WEBHOOK_SECRETS_KEY, type: AttributeType.STRING },
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Losing it would break every receiver's signature check.
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.stagingAccessLogs = new Bucket(this, 'StagingAccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      // Server access log delivery supports SSE-S3 only.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
      // Audit records outlive the stack; the lifecycle rule still empties the bucket.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(
      this.stagingAccessLogs,
      'S1',
      "This bucket receives the staging bucket's server access logs; logging its own accesses would only log the log deliveries.",
    );

    this.stagingBucket = new Bucket(this, 'Staging', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      lifecycleRules: [
        // Staged files are only needed while a deployment uploads; whatever is left expires.
        { id: 'expire-staged-files', prefix: STAGING_KEY_PREFIX, expiration: Duration.days(1) },
        // Logs saved from a sandbox before it was killed, readable for two weeks.
        { id: 'expire-saved-logs', prefix: SAVED_LOGS_PREFIX, expiration: Duration.days(SAVED_LOGS_RETENTION_DAYS) },
        // Content-addressed blobs, reused by later deployments; the index stops offering a chunk a
        // day before this deletes it.
        { id: 'expire-blobs', prefix: BLOB_KEY_PREFIX, expiration: Duration.days(DEFAULT_UPLOAD_SETTINGS.blobRetentionDays + 1) },
        // Archives of installed dependencies, per owner and key: an entry lives two weeks after
        // its save (a hit does not extend it); the next install of that key saves it again.
        { id: 'expire-dependency-cache', prefix: DEPENDENCY_CACHE_PREFIX, expiration: Duration.days(DEPENDENCY_CACHE_RETENTION_DAYS) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      serverAccessLogsBucket: this.stagingAccessLogs,
      serverAccessLogsPrefix: 'staging/',
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const apiKeySecret = secretFrom(this, props.agentSphereApiKeySecret);
    const environment: Record<string, string> = {
      DEPLOYMENTS_TABLE: this.deploymentsTable.tableName,
      IDEMPOTENCY_TABLE: this.idempotencyTable.tableName,
      WEBHOOK_SECRETS_TABLE: this.webhookSecretsTable.tableName,
      STAGING_BUCKET: this.stagingBucket.bucketName,
      AGENTSPHERE_API_KEY_SECRET: apiKeySecret.secretArn,
      AGENTSPHERE_DOMAIN: props.agentSphereDomain ?? 'agentsphere.run',
      POWERTOOLS_SERVICE_NAME: 'coderunner',
      POWERTOOLS_METRICS_NAMESPACE: 'CodeRunner',
      NODE_OPTIONS: '--enable-source-maps',
      ...quotaEnvironment({ ...DEFAULT_QUOTA_LIMITS, ...props.quotas }),
      // One value for the API (URLs, index freshness) and the sweep (the AWAITING_UPLOAD deadline).
      BLOB_RETENTION_DAYS: String(DEFAULT_UPLOAD_SETTINGS.blobRetentionDays),
      UPLOAD_DEADLINE_SECONDS: String(DEFAULT_UPLOAD_SETTINGS.deadlineSeconds),
    };
    this.functions = Object.fromEntries(
      (Object.keys(HANDLERS) as HandlerName[]).map((name) => [name, this.#function(name, props, environment)]),
    ) as Record<HandlerName, NodejsFunction>;
    const fns = this.functions;

    this.lifecycleEvents = new LifecycleEvents(this, 'LifecycleEvents', { deliverWebhook: fns.deliverWebhook });
    for (const name of Object.keys(HANDLERS) as HandlerName[]) {
      if (FUNCTION_ACCESS[name].publishesEvents) fns[name].addEnvironment('EVENT_BUS_NAME', this.lifecycleEvents.bus.eventBusName);
    }

    this.stateMachine = new DeploymentStateMachine(this, 'DeploymentSaga', {
      create: fns.create,
      uploadBatch: fns.uploadBatch,
      start: fns.start,
      health: fns.health,
      kill: fns.kill,
      logRetention: props.logRetention,
    });
    fns.apiCreateDeployment.addEnvironment('STATE_MACHINE_ARN', this.stateMachine.stateMachine.stateMachineArn);

    // Least privilege: each function gets exactly what its code calls (function-access.ts).
    for (const name of Object.keys(HANDLERS) as HandlerName[]) this.#grantAccess(name, apiKeySecret);

    this.api = new HttpApi(this, 'Api', {
      description: 'CodeRunner: deploy projects into sandboxes',
      defaultAuthorizer: new HttpJwtAuthorizer('JwtAuthorizer', jwtIssuerParameter(this, props.jwtIssuer), { jwtAudience: props.jwtAudience }),
      // The default stage is added below, with access logs (the API's own default stage takes no log settings).
      createDefaultStage: false,
    });
    this.api.addStage('DefaultStage', {
      stageName: '$default',
      autoDeploy: true,
      // Stage-wide throttling in front of the per-user quotas.
      throttle: props.apiThrottle ?? DEFAULT_API_THROTTLE,
      accessLogSettings: {
        destination: new LogGroupLogDestination(
          new LogGroup(this, 'ApiAccessLogs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
        ),
        format: API_ACCESS_LOG_FORMAT,
      },
    });
    for (const route of ROUTES) {
      const [method, path] = route.routeKey.split(' ') as [keyof typeof HttpMethod, string];
      const routes = this.api.addRoutes({
        path,
        methods: [HttpMethod[method]],
        integration: new HttpLambdaIntegration(`${route.handler}Integration`, fns[route.handler]),
        ...(route.public ? { authorizer: new HttpNoneAuthorizer() } : {}),
      });
      if (route.public) {
        for (const publicRoute of routes) {
          acknowledge(
            publicRoute,
            'APIG4',
            `${route.routeKey} is public on purpose: it serves the OpenAPI document (generated from the request schemas, no caller data) ` +
              'so that clients can discover the API before they hold a token; every other route requires the JWT authorizer.',
          );
        }
      }
    }

    this.alarmNotifications = new AlarmNotifications(this, 'AlarmNotifications', props.alarmEmail ? { email: props.alarmEmail } : {});
    this.killDeadLetters = this.#backstops(props);

    new CfnOutput(this, 'ApiUrl', { value: this.api.apiEndpoint });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachine.stateMachineArn });
    new CfnOutput(this, 'EventBusName', { value: this.lifecycleEvents.bus.eventBusName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmNotifications.topic.topicArn });
  }

  /**
   * What the saga's Catch cannot cover: the scheduled sweep, the kill on execution status
   * changes (timeouts, aborts, uncatchable errors), a dead-letter queue for kills that failed
   * every retry, and alarms.
   */
  #backstops(props: CodeRunnerStackProps): Queue {
    const { sweep, executionStatusChange } = this.functions;
    const stateMachine = this.stateMachine.stateMachine;

    new Schedule(this, 'SweepSchedule', {
      description: 'CodeRunner sweep: expired, stuck, orphaned and lost sandboxes',
      schedule: ScheduleExpression.rate(props.sweepInterval ?? Duration.minutes(5)),
      target: new ScheduledLambdaInvoke(sweep, { retryAttempts: 0, role: this.#sweepScheduleRole() }),
    });

    const deadLetters = new Queue(this, 'KillDeadLetters', {
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledge(
      deadLetters,
      'SQS3',
      'This queue is itself the dead-letter queue: of the ExecutionEndedRule target and of the execution-status-change ' +
        "function's failed async invocations, which SQS3 does not recognise (it only looks for RedrivePolicy and Lambda " +
        'DeadLetterConfig). A DLQ for the DLQ would only move the problem: messages stay 14 days and KillDeadLettersAlarm fires on the first.',
    );
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
    this.alarmNotifications.notify(
      alarm('SweepErrorsAlarm', 'The sweep failed on some items', metric('SweepErrors')),
      alarm('OrphansFoundAlarm', 'The sweep killed orphaned sandboxes: some path leaks', metric('OrphansKilled')),
      alarm('KillDeadLettersAlarm', 'A kill failed every retry', deadLetters.metricApproximateNumberOfMessagesVisible()),
      alarm(
        'WebhookDeadLettersAlarm',
        'A webhook failed every retry (its event is in the webhook dead-letter queue)',
        this.lifecycleEvents.webhookDeadLetters.metricApproximateNumberOfMessagesVisible(),
      ),
    );
    return deadLetters;
  }

  /**
   * The role EventBridge Scheduler invokes the sweep with (the target's own would be a hashed
   * stack-level singleton, with no construct of ours to acknowledge its finding on).
   */
  #sweepScheduleRole(): Role {
    const role = new Role(this, 'SweepScheduleRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': this.account,
            'aws:SourceArn': this.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
    });
    acknowledgeWildcardResource(
      role,
      `${this.functions.sweep.functionArn}:*`,
      "The Lambda target's grant: the sweep function and its versions and aliases (<function ARN>:*), nothing else.",
    );
    return role;
  }

  /** Grants a function exactly the calls its code makes (FUNCTION_ACCESS), on the narrowest resources. */
  #grantAccess(name: HandlerName, apiKeySecret: ISecret): void {
    const access = FUNCTION_ACCESS[name];
    const fn = this.functions[name];
    const allow = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
      fn.addToRolePolicy(new PolicyStatement({ actions, resources, ...(conditions ? { conditions } : {}) }));
    const table = this.deploymentsTable.tableArn;

    if (access.deploymentItems?.length) allow(access.deploymentItems.map((action) => `dynamodb:${action}`), [table]);
    // Quota items live in the same table, one partition per user (DynamoDbQuotaStore).
    if (access.quotas) {
      allow((access.quotas === 'write' ? QUOTA_WRITE_ACTIONS : QUOTA_READ_ACTIONS).map((action) => `dynamodb:${action}`), [table], {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['QUOTA#*'] },
      });
    }
    // Named indexes, not <table>/index/*: each function queries only the indexes it reads.
    if (access.queriedIndexes?.length) allow(['dynamodb:Query'], access.queriedIndexes.map((index) => `${table}/index/${index}`));
    if (access.idempotencyRecords) allow(IDEMPOTENCY_ACTIONS, [this.idempotencyTable.tableArn]);

    const staging = new Set(access.staging);
    const stagedObjects = this.stagingBucket.arnForObjects(`${STAGING_KEY_PREFIX}*`);
    if (staging.has('put')) allow(['s3:PutObject'], [stagedObjects]);
    if (staging.has('get')) allow(['s3:GetObject'], [stagedObjects]);
    if (staging.has('deleteAll')) {
      allow(['s3:ListBucket'], [this.stagingBucket.bucketArn], { StringLike: { 's3:prefix': [`${STAGING_KEY_PREFIX}*`] } });
      allow(['s3:DeleteObject'], [stagedObjects]);
    }
    if (staging.size > 0) {
      acknowledgeWildcardResource(
        fn.role!,
        stagedObjects,
        `Staged files are keyed by deployment (${STAGING_KEY_PREFIX}<deploymentId>/...), known only at run time; the wildcard stays within the staging prefix of this one bucket.`,
      );
    }
    const blobs = new Set(access.blobs);
    const blobObjects = this.stagingBucket.arnForObjects(`${BLOB_KEY_PREFIX}*`);
    if (blobs.has('get')) allow(['s3:GetObject'], [blobObjects]);
    if (blobs.has('put')) allow(['s3:PutObject'], [blobObjects]);
    if (blobs.size > 0) {
      acknowledgeWildcardResource(
        fn.role!,
        blobObjects,
        `Blobs are keyed by owner and content (${BLOB_KEY_PREFIX}<owner hash>/...), known only at run time; the wildcard stays within the blob prefix of this one bucket, and the code derives the owner from the caller's token.`,
      );
    }
    if (access.dependencyCache) {
      const entries = this.stagingBucket.arnForObjects(`${DEPENDENCY_CACHE_PREFIX}*`);
      allow(['s3:GetObject', 's3:PutObject'], [entries]);
      // So that a HEAD of a missing entry answers 404 rather than 403.
      allow(['s3:ListBucket'], [this.stagingBucket.bucketArn], { StringLike: { 's3:prefix': [`${DEPENDENCY_CACHE_PREFIX}*`] } });
      acknowledgeWildcardResource(
        fn.role!,
        entries,
        `Dependency cache entries are keyed by owner and cache key (${DEPENDENCY_CACHE_PREFIX}<owner hash>/<key>.tar.zst), known only at run time; the wildcard stays within the cache prefix of this one bucket, and the code derives the owner from the deployment's record.`,
      );
    }
    const savedLogs = new Set(access.savedLogs);
    const savedLogObjects = this.stagingBucket.arnForObjects(`${SAVED_LOGS_PREFIX}*`);
    if (savedLogs.has('put')) allow(['s3:PutObject'], [savedLogObjects]);
    if (savedLogs.has('get')) allow(['s3:GetObject'], [savedLogObjects]);
    if (savedLogs.size > 0) {
      acknowledgeWildcardResource(
        fn.role!,
        savedLogObjects,
        `Saved logs are keyed by deployment (${SAVED_LOGS_PREFIX}<deploymentId>.json.gz), known only at run time; the wildcard stays within the saved-logs prefix of this one bucket.`,
      );
    }

    const stateMachine = this.stateMachine.stateMachine;
    if (access.startsExecutions) stateMachine.grantStartExecution(fn);
    if (access.describesExecutions) {
      const executions = this.formatArn({
        service: 'states',
        resource: 'execution',
        resourceName: `${stateMachine.stateMachineName}:*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      allow(['states:DescribeExecution'], [executions]);
      acknowledgeWildcardResource(
        fn.role!,
        executions,
        'Execution ARNs are named by deployment id at run time; the wildcard covers the executions of the deployment saga only.',
      );
    }
    if (access.sandboxes) apiKeySecret.grantRead(fn);

    if (access.publishesEvents) {
      this.lifecycleEvents.bus.grantPutEventsTo(fn);
      // The event's history item, next to the record.
      if (!access.deploymentItems?.includes('PutItem')) allow(['dynamodb:PutItem'], [table]);
    }
    if (access.readsEventHistory) {
      allow(['dynamodb:Query'], [table], { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['DEPLOYMENT#*'] } });
    }
    if (access.webhookSecrets) allow(['dynamodb:GetItem', 'dynamodb:PutItem'], [this.webhookSecretsTable.tableArn]);
  }

  /** The CloudFormation logical id of a handler's function (how the local stack maps ASL tasks to handlers). */
  functionLogicalId(name: HandlerName): string {
    return this.getLogicalId(this.functions[name].node.defaultChild as CfnFunction);
  }

  #function(name: HandlerName, props: CodeRunnerStackProps, environment: Record<string, string>): NodejsFunction {
    const settings = FUNCTION_SETTINGS[name];
    const id = `${name[0]!.toUpperCase()}${name.slice(1)}Function`;
    const logGroup = new LogGroup(this, `${id}Logs`, {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Our own role instead of AWSLambdaBasicExecutionRole (logs:* on every log group): writes to its own log group only.
    const role = new Role(this, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    return new NodejsFunction(this, id, {
      role,
      entry: `${props.projectRoot}/${HANDLERS[name]}`,
      handler: 'handler',
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      memorySize: settings.memorySize ?? 512,
      timeout: settings.timeout,
      ...(settings.reservedConcurrency !== undefined ? { reservedConcurrentExecutions: settings.reservedConcurrency } : {}),
      environment,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      projectRoot: props.projectRoot,
      logGroup,
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
