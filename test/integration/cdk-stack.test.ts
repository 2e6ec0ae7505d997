/**
 * The synthesized CDK stack: runtime and logging of every function, the staging bucket, the
 * table's indexes, the HTTP API's JWT protection and access logs, the saga's timeouts, retries,
 * the kill step and logging, least-privilege IAM, and cdk-nag's AWS Solutions checks.
 */
import { Validations, type App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { DEPLOYMENTS_TABLE_KEYS } from '../../functions/shared/adapters/deployments-table-keys.ts';
import { DEPLOYMENT_STEPS } from '../../functions/shared/deployments/deployment-status.ts';
import { buildApp, STACK_NAME } from '../../infra/cdk/app.ts';
import { FUNCTION_ACCESS } from '../../infra/cdk/function-access.ts';
import { JWT_ISSUER_REQUIRED, PLACEHOLDER_JWT_ISSUER } from '../../infra/cdk/jwt-issuer.ts';
import type { HandlerName } from '../../infra/cdk/handlers.ts';
import { ROUTES } from '../../infra/cdk/handlers.ts';
import { applyNagChecks } from '../../infra/cdk/nag-checks.ts';
import { lambdaTasks, walkStates } from '../../infra/local/step-functions/lambda-tasks.ts';
import { resolveStateMachineDefinition, type CfnTemplate } from '../../infra/local/step-functions/resolve-definition.ts';

const synthesized = inject('synthesizedStack');
const template = Template.fromJSON(synthesized.template);
const resources = synthesized.template.Resources;

type Resource = { Type: string; Properties?: Record<string, any> };
type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

const functionEntries = Object.entries(synthesized.handlerByLogicalId) as [string, HandlerName][];

function logicalIdOf(handler: HandlerName): string {
  const entry = functionEntries.find(([, name]) => name === handler);
  if (!entry) throw new Error(`no function for handler ${handler}`);
  return entry[0];
}

/** The logical id a `{ Ref }` or `{ Fn::GetAtt: [id, attr] }` points at. */
function referencedId(value: any): string | undefined {
  return value?.Ref ?? value?.['Fn::GetAtt']?.[0];
}

function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

/** Every statement of every policy attached to a role: AWS::IAM::Policy resources and inline policies. */
function statementsOfRole(roleLogicalId: string): Statement[] {
  const attached = Object.values(resources as Record<string, Resource>)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy')
    .filter((policy) => (policy.Properties?.Roles ?? []).some((role: unknown) => referencedId(role) === roleLogicalId))
    .flatMap((policy) => policy.Properties!.PolicyDocument.Statement as Statement[]);
  const inline = ((resources[roleLogicalId]?.Properties?.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[]).flatMap(
    (policy) => policy.PolicyDocument.Statement,
  );
  return [...attached, ...inline];
}

/** A function's quota defaults, as its environment gives them. */
function quotaVariables(resource: Resource): Record<string, unknown> {
  const variables = (resource.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>;
  return Object.fromEntries(
    ['QUOTA_LIVE_SANDBOXES', 'QUOTA_DEPLOYMENTS_IN_FLIGHT', 'QUOTA_DEPLOYMENTS_PER_MINUTE', 'MAX_SANDBOX_LIFETIME_SECONDS'].map((name) => [name, variables[name]]),
  );
}

function roleOfFunction(functionLogicalId: string): string {
  const role = referencedId(resources[functionLogicalId]!.Properties!.Role);
  if (!role) throw new Error(`function ${functionLogicalId} has no role reference`);
  return role;
}

function statementsOfFunction(handler: HandlerName): Statement[] {
  return statementsOfRole(roleOfFunction(logicalIdOf(handler)));
}

/** Whether a statement's resources include the given resource (directly or through a Join on its ARN). */
function touches(statement: Statement, logicalId: string): boolean {
  return JSON.stringify(statement.Resource).includes(`"${logicalId}"`);
}

const allStatements = Object.entries(resources as Record<string, Resource>).flatMap(([logicalId, resource]) =>
  resource.Type === 'AWS::IAM::Role' ? statementsOfRole(logicalId).map((statement) => ({ role: logicalId, statement })) : [],
);

describe('Lambda functions', () => {
  it('are exactly the project handlers, one function each', () => {
    // Prepare
    const expected = Object.keys(synthesized.handlerByLogicalId).sort();

    // Act
    const functions = Object.keys(template.findResources('AWS::Lambda::Function')).sort();

    // Assert
    expect(functions).toEqual(expected);
  });

  it.each(functionEntries)('%s (%s) runs on nodejs24.x with handler index.handler', (logicalId) => {
    // Prepare
    const properties = resources[logicalId]!.Properties!;

    // Act
    const { Runtime, Handler } = properties;

    // Assert
    expect({ Runtime, Handler }).toEqual({ Runtime: 'nodejs24.x', Handler: 'index.handler' });
  });

  it.each(functionEntries)('%s (%s) logs to its own log group with a retention', (logicalId) => {
    // Prepare
    const logGroupId = referencedId(resources[logicalId]!.Properties!.LoggingConfig?.LogGroup);

    // Act
    const logGroup = logGroupId ? resources[logGroupId] : undefined;

    // Assert
    expect(logGroup?.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup?.Properties?.RetentionInDays).toEqual(expect.any(Number));
  });

  it('share no log group between functions', () => {
    // Prepare
    const logGroups = functionEntries.map(([logicalId]) => referencedId(resources[logicalId]!.Properties!.LoggingConfig?.LogGroup));

    // Act
    const distinct = new Set(logGroups);

    // Assert
    expect(distinct.size).toBe(functionEntries.length);
  });
});

describe('the staging bucket', () => {
  const bucket = resources[synthesized.logicalIds.stagingBucket]!;

  it('expires staged files after a day, saved logs after two weeks, blobs after eight days and dependency cache entries after two weeks, each by its own prefix', () => {
    // Prepare
    const rules = bucket.Properties!.LifecycleConfiguration?.Rules ?? [];

    // Act
    const expiring = rules
      .filter((rule: any) => rule.Status === 'Enabled' && typeof rule.ExpirationInDays === 'number')
      .map((rule: any) => [rule.Prefix, rule.ExpirationInDays]);

    // Assert
    expect(expiring).toEqual([
      ['deployments/', 1],
      ['logs/', 14],
      ['blobs/', 8],
      ['dependency-cache/', 14],
    ]);
  });

  it('aborts incomplete multipart uploads', () => {
    const rules = bucket.Properties!.LifecycleConfiguration?.Rules ?? [];

    expect(rules).toContainEqual(expect.objectContaining({ Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }));
  });

  it('blocks every kind of public access', () => {
    // Prepare
    const properties = bucket.Properties!;

    // Act
    const block = properties.PublicAccessBlockConfiguration;

    // Assert
    expect(block).toEqual({ BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true });
  });

  it('writes its server access logs to a separate bucket that expires them', () => {
    // Prepare
    const logsBucketId = referencedId(bucket.Properties!.LoggingConfiguration?.DestinationBucketName);

    // Act
    const logsBucket = logsBucketId ? resources[logsBucketId] : undefined;
    const expiring = (logsBucket?.Properties?.LifecycleConfiguration?.Rules ?? []).filter(
      (rule: any) => rule.Status === 'Enabled' && typeof rule.ExpirationInDays === 'number',
    );

    // Assert
    expect(logsBucketId).not.toBe(synthesized.logicalIds.stagingBucket);
    expect(logsBucket?.Type).toBe('AWS::S3::Bucket');
    expect(expiring).toHaveLength(1);
  });
});

describe('the deployments table', () => {
  it.each([
    [DEPLOYMENTS_TABLE_KEYS.byOwnerIndex, 'gsi1pk', 'gsi1sk'],
    [DEPLOYMENTS_TABLE_KEYS.byOwnerProjectIndex, 'gsi2pk', 'gsi2sk'],
    [DEPLOYMENTS_TABLE_KEYS.activeByExpiryIndex, 'activePartition', 'expiresAt'],
    [DEPLOYMENTS_TABLE_KEYS.inFlightIndex, 'inFlightPartition', 'stepStartedAt'],
    [DEPLOYMENTS_TABLE_KEYS.activeByOwnerIndex, 'activeOwner', 'gsi1sk'],
  ])('has the GSI %s keyed by %s and %s', (indexName, partitionKey, sortKey) => {
    // Prepare
    const table = resources[synthesized.logicalIds.deploymentsTable]!;

    // Act
    const index = (table.Properties!.GlobalSecondaryIndexes as any[]).find((candidate) => candidate.IndexName === indexName);

    // Assert
    expect(index?.KeySchema).toEqual([
      { AttributeName: partitionKey, KeyType: 'HASH' },
      { AttributeName: sortKey, KeyType: 'RANGE' },
    ]);
  });
});

describe('the HTTP API', () => {
  const authorizers = template.findResources('AWS::ApiGatewayV2::Authorizer');
  const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')) as Resource[];

  it('has one JWT authorizer reading the Authorization header, with an issuer and an audience', () => {
    // Prepare
    const all = Object.values(authorizers) as Resource[];

    // Act
    const jwt = all.filter((authorizer) => authorizer.Properties?.AuthorizerType === 'JWT');

    // Assert
    expect(jwt).toHaveLength(1);
    expect(jwt[0]!.Properties).toMatchObject({
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: { Issuer: { Ref: 'JwtIssuer' }, Audience: [expect.any(String)] },
    });
    expect(synthesized.template.Parameters?.JwtIssuer?.Default).toEqual(expect.stringMatching(/^https:\/\//));
  });

  it('has exactly the API routes the handler list declares', () => {
    // Prepare
    const expected = [
      'POST /deployments',
      'POST /deployments/{id}/complete',
      'GET /deployments',
      'GET /deployments/{id}',
      'DELETE /deployments/{id}',
      'GET /deployments/{id}/health',
      'GET /deployments/{id}/logs',
      'POST /deployments/{id}/keepalive',
      'GET /deployments/{id}/events',
      'GET /webhook-secret',
      'POST /webhook-secret/rotate',
      'GET /sandboxes',
      'GET /quotas',
      'GET /openapi.json',
    ];

    // Act
    const routeKeys = routes.map((route) => route.Properties!.RouteKey);

    // Assert
    expect(routeKeys.sort()).toEqual(expected.sort());
    expect(ROUTES.map((route) => route.routeKey).sort()).toEqual(expected.sort());
  });

  it.each(ROUTES.filter((route) => !route.public).map((route) => route.routeKey))('protects %s with the JWT authorizer', (routeKey) => {
    // Prepare
    const [authorizerId] = Object.keys(authorizers);

    // Act
    const route = routes.find((candidate) => candidate.Properties!.RouteKey === routeKey);

    // Assert
    expect(route?.Properties).toMatchObject({ AuthorizationType: 'JWT', AuthorizerId: { Ref: authorizerId } });
  });

  it('writes JSON access logs with request id, route, status, latency and caller to a log group with a retention', () => {
    // Prepare
    const [stage] = Object.values(template.findResources('AWS::ApiGatewayV2::Stage')) as Resource[];
    const settings = stage?.Properties?.AccessLogSettings;

    // Act
    const format = JSON.parse(settings?.Format ?? '{}') as Record<string, string>;
    const logGroup = resources[referencedId(settings?.DestinationArn) ?? ''];

    // Assert
    expect(Object.values(format)).toEqual(
      expect.arrayContaining([
        '$context.requestId',
        '$context.routeKey',
        '$context.status',
        '$context.responseLatency',
        '$context.authorizer.claims.sub',
      ]),
    );
    expect(logGroup?.Type).toBe('AWS::Logs::LogGroup');
    expect(logGroup?.Properties?.RetentionInDays).toEqual(expect.any(Number));
  });
});

describe('the deployment state machine', () => {
  const definition = resolveStateMachineDefinition(synthesized.template as CfnTemplate, synthesized.logicalIds.stateMachine);
  const states = Array.from(walkStates(definition));
  const stateByName = Object.fromEntries(states) as Record<string, Record<string, any>>;
  const tasks = states.filter(([, state]) => state.Type === 'Task');
  const handlerOfTask = Object.fromEntries(
    lambdaTasks(definition).map((task) => [task.stateName, synthesized.handlerByLogicalId[task.functionLogicalId]]),
  );
  const killState = Object.keys(handlerOfTask).find((stateName) => handlerOfTask[stateName] === 'kill');

  it('logs errors to a CloudWatch log group with a retention, without execution data', () => {
    // Prepare
    const logging = resources[synthesized.logicalIds.stateMachine]!.Properties!.LoggingConfiguration;

    // Act
    const logGroup = resources[referencedId(logging?.Destinations?.[0]?.CloudWatchLogsLogGroup?.LogGroupArn) ?? ''];

    // Assert
    expect(logging).toMatchObject({ Level: 'ERROR', IncludeExecutionData: false });
    expect(logGroup?.Properties?.RetentionInDays).toEqual(expect.any(Number));
  });

  it('bounds the whole execution with TimeoutSeconds', () => {
    // Prepare: the definition is resolved from the template

    // Act
    const timeout = definition.TimeoutSeconds;

    // Assert
    expect(timeout).toEqual(expect.any(Number));
    expect(timeout).toBeGreaterThan(0);
  });

  it('has the five Lambda tasks, each bound to its handler', () => {
    // Prepare: the definition is resolved from the template

    // Act
    const bound = Object.values(handlerOfTask).sort();

    // Assert
    expect(bound).toEqual(['create', 'health', 'kill', 'start', 'uploadBatch']);
  });

  it.each(tasks.map(([name]) => name))('gives the Task %s a TimeoutSeconds', (stateName) => {
    // Prepare
    const state = stateByName[stateName]!;

    // Act
    const timeout = state.TimeoutSeconds;

    // Assert
    expect(timeout).toEqual(expect.any(Number));
    expect(timeout).toBeGreaterThan(0);
  });

  it.each(lambdaTasks(definition).map((task) => [task.stateName, task.functionLogicalId] as const))(
    'lets the Task %s wait longer than its function %s may run',
    (stateName, functionLogicalId) => {
      // Prepare
      const functionTimeout = resources[functionLogicalId]!.Properties!.Timeout as number;

      // Act
      const taskTimeout = stateByName[stateName]!.TimeoutSeconds as number;

      // Assert
      expect(taskTimeout).toBeGreaterThan(functionTimeout);
    },
  );

  it.each(tasks.map(([name]) => name))('retries running out of time (StepTimeBudgetError, SandboxDeadlineError) in the Task %s: a fresh invocation has its whole timeout', (stateName) => {
    // Prepare
    const retriers = (stateByName[stateName]!.Retry ?? []) as { ErrorEquals: string[] }[];

    // Act
    const retried = retriers.flatMap((retrier) => retrier.ErrorEquals);

    // Assert
    expect(retried).toEqual(expect.arrayContaining(['StepTimeBudgetError', 'SandboxDeadlineError']));
  });

  it.each(tasks.map(([name]) => name))('retries SandboxRateLimitedError in the Task %s with full jitter', (stateName) => {
    // Prepare
    const retriers = (stateByName[stateName]!.Retry ?? []) as { ErrorEquals: string[]; JitterStrategy?: string }[];

    // Act
    const rateLimited = retriers.find((retrier) => retrier.ErrorEquals.includes('SandboxRateLimitedError'));

    // Assert
    expect(rateLimited).toMatchObject({ JitterStrategy: 'FULL', MaxAttempts: expect.any(Number) });
  });

  it('names every saga step in exactly one catch path', () => {
    // Prepare
    const catchers = states.filter(([name, state]) => name !== killState && Array.isArray(state.Catch));

    // Act
    const failedSteps = catchers.flatMap(([, state]) => (state.Catch as { Next: string }[]).map((handler) => stateByName[handler.Next]?.Parameters?.failedStep));

    // Assert
    expect(failedSteps.sort()).toEqual([...DEPLOYMENT_STEPS].sort());
  });

  it.each(['Create', 'UploadBatches', 'Start', 'Health'])('catches every error of %s, records the failed step in a Pass and leads to Kill', (stateName) => {
    // Prepare
    const state = stateByName[stateName]!;

    // Act
    const [catcher] = state.Catch as { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
    const recorder = stateByName[catcher!.Next]!;

    // Assert
    expect(catcher).toMatchObject({ ErrorEquals: ['States.ALL'], ResultPath: '$.error' });
    expect(recorder).toMatchObject({
      Type: 'Pass',
      Parameters: { 'deploymentId.$': '$.deploymentId', failedStep: expect.any(String), 'error.$': '$.error' },
      Next: killState,
    });
    expect(stateByName[killState!]).toMatchObject({ Type: 'Task' });
  });

  it('uploads batches in a Map with a MaxConcurrency', () => {
    // Prepare
    const maps = states.filter(([, state]) => state.Type === 'Map');

    // Act
    const concurrency = maps.map(([, state]) => state.MaxConcurrency);

    // Assert
    expect(maps.map(([name]) => name)).toEqual(['UploadBatches']);
    expect(concurrency[0]).toBeGreaterThan(0);
  });
});

describe('least privilege', () => {
  const WRITE_ACTION = /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem|PartiQL(Insert|Update|Delete)|\*)$/;
  const deploymentsTable = synthesized.logicalIds.deploymentsTable;

  it('resolves every function role to at least one policy (so the checks below look at something)', () => {
    // Prepare: the OpenAPI function touches nothing, so it has no policy
    const handlers = functionEntries.map(([, handler]) => handler).filter((handler) => handler !== 'apiOpenApi');

    // Act
    const withoutPolicy = handlers.filter((handler) => statementsOfFunction(handler).length === 0);

    // Assert
    expect(withoutPolicy).toEqual([]);
  });

  it('lets the GET deployment function read the table but never write it', () => {
    // Prepare
    const statements = statementsOfFunction('apiGetDeployment').filter((statement) => touches(statement, deploymentsTable));

    // Act
    const writes = statements.flatMap(actionsOf).filter((action) => WRITE_ACTION.test(action));

    // Assert
    expect(statements.flatMap(actionsOf)).toContain('dynamodb:GetItem');
    expect(writes).toEqual([]);
  });

  it('gives the GET deployment function no Secrets Manager access', () => {
    // Prepare
    const statements = statementsOfFunction('apiGetDeployment');

    // Act
    const secretActions = statements.flatMap(actionsOf).filter((action) => action.startsWith('secretsmanager:'));

    // Assert
    expect(secretActions).toEqual([]);
  });

  it('lets only the API functions that create and complete deployments start executions', () => {
    // Prepare
    const startsExecutions = (statement: Statement) =>
      actionsOf(statement).some((action) => ['states:StartExecution', 'states:*'].includes(action));

    // Act
    const roles = [...new Set(allStatements.filter(({ statement }) => startsExecutions(statement)).map(({ role }) => role))];

    // Assert
    expect(roles.sort()).toEqual([roleOfFunction(logicalIdOf('apiCreateDeployment')), roleOfFunction(logicalIdOf('apiCompleteDeployment'))].sort());
  });

  it('lets only the completion write blobs, and only the functions that read them read them, within the blobs/ prefix', () => {
    // Prepare
    const onBlobs = (statement: Statement) => JSON.stringify(statement.Resource).includes('/blobs/*');
    const rolesWith = (action: string) =>
      [...new Set(allStatements.filter(({ statement }) => onBlobs(statement) && actionsOf(statement).includes(action)).map(({ role }) => role))].sort();

    // Act
    const writers = rolesWith('s3:PutObject');
    const readers = rolesWith('s3:GetObject');

    // Assert
    expect(writers).toEqual([roleOfFunction(logicalIdOf('apiCompleteDeployment'))]);
    expect(readers).toEqual(
      (['apiCreateDeployment', 'apiCompleteDeployment', 'uploadBatch'] as const).map((handler) => roleOfFunction(logicalIdOf(handler))).sort(),
    );
  });

  it('lets only the start step read and write the dependency cache, within the dependency-cache/ prefix', () => {
    // Prepare
    const onCache = (statement: Statement) => JSON.stringify(statement.Resource).includes('dependency-cache/');
    const rolesWith = (action: string) =>
      [...new Set(allStatements.filter(({ statement }) => onCache(statement) && actionsOf(statement).includes(action)).map(({ role }) => role))].sort();
    const listings = allStatements.filter(({ statement }) => actionsOf(statement).includes('s3:ListBucket') && JSON.stringify(statement.Condition ?? {}).includes('dependency-cache/'));

    // Act
    const writers = rolesWith('s3:PutObject');
    const readers = rolesWith('s3:GetObject');

    // Assert
    expect(writers).toEqual([roleOfFunction(logicalIdOf('start'))]);
    expect(readers).toEqual([roleOfFunction(logicalIdOf('start'))]);
    expect(listings.map(({ role }) => role)).toEqual([roleOfFunction(logicalIdOf('start'))]);
    expect(listings.map(({ statement }) => statement.Condition)).toEqual([{ StringLike: { 's3:prefix': ['dependency-cache/*'] } }]);
  });

  it('grants no Scan or BatchWriteItem on the deployments table (no handler calls them)', () => {
    // Prepare
    const uncalled = /^dynamodb:(Scan|BatchWriteItem|\*)$/;

    // Act
    const granted = allStatements
      .filter(({ statement }) => touches(statement, deploymentsTable))
      .flatMap(({ role, statement }) => actionsOf(statement).filter((action) => uncalled.test(action)).map((action) => `${role}: ${action}`));

    // Assert
    expect(granted).toEqual([]);
  });

  it('grants DeleteItem on the deployments table only for quota items (giving back a quota slot)', () => {
    // Prepare
    const deletes = allStatements.filter(({ statement }) => touches(statement, deploymentsTable) && actionsOf(statement).includes('dynamodb:DeleteItem'));

    // Act
    const conditions = deletes.map(({ statement }) => statement.Condition);

    // Assert
    expect(deletes.length).toBeGreaterThan(0);
    for (const condition of conditions) expect(condition).toEqual({ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['QUOTA#*'] } });
  });

  it('throttles the HTTP API stage and reserves concurrency for the sweep and for creating deployments', () => {
    const resources = synthesized.template.Resources;
    const stage = Object.values(resources).find((resource) => resource.Type === 'AWS::ApiGatewayV2::Stage')!;
    const sweep = resources[logicalIdOf('sweep')]!;
    const createDeployment = resources[logicalIdOf('apiCreateDeployment')]!;

    expect(stage.Properties!.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
    expect(sweep.Properties!.ReservedConcurrentExecutions).toBe(1);
    expect(createDeployment.Properties!.ReservedConcurrentExecutions).toBe(50);
  });

  it('gives every function the default quotas: 5 live sandboxes, 3 deployments in flight, 10 started per minute, 24 h longest lifetime', () => {
    // Prepare
    const functions = Object.values(synthesized.template.Resources).filter((resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties?.Environment);

    // Act
    const quotas = new Set(functions.map((resource) => JSON.stringify(quotaVariables(resource))));

    // Assert
    expect([...quotas].map((text) => JSON.parse(text))).toEqual([
      { QUOTA_LIVE_SANDBOXES: '5', QUOTA_DEPLOYMENTS_IN_FLIGHT: '3', QUOTA_DEPLOYMENTS_PER_MINUTE: '10', MAX_SANDBOX_LIFETIME_SECONDS: '86400' },
    ]);
  });

  it('takes the default quotas from context', () => {
    // Prepare
    const template = templateWith({ quotaLiveSandboxes: '2', quotaDeploymentsInFlight: '1', quotaDeploymentsPerMinute: '4', maxSandboxLifetimeSeconds: '7200' });

    // Act
    const createDeployment = Object.values(template.Resources).find((resource) => resource.Properties?.Handler && String(resource.Properties?.Environment?.Variables?.QUOTA_LIVE_SANDBOXES) === '2');

    // Assert
    expect(quotaVariables(createDeployment!)).toEqual({ QUOTA_LIVE_SANDBOXES: '2', QUOTA_DEPLOYMENTS_IN_FLIGHT: '1', QUOTA_DEPLOYMENTS_PER_MINUTE: '4', MAX_SANDBOX_LIFETIME_SECONDS: '7200' });
  });

  it('attaches no AWS managed policy to any role', () => {
    // Prepare
    const roles = Object.entries(template.findResources('AWS::IAM::Role')) as [string, Resource][];

    // Act
    const withManaged = roles.filter(([, role]) => (role.Properties?.ManagedPolicyArns ?? []).length > 0).map(([logicalId]) => logicalId);

    // Assert
    expect(roles.length).toBeGreaterThan(0);
    expect(withManaged).toEqual([]);
  });

  it('has no policy statement with Action "*"', () => {
    // Prepare
    const statements = allStatements;

    // Act
    const wildcards = statements.filter(({ statement }) => actionsOf(statement).includes('*'));

    // Assert
    expect(statements.length).toBeGreaterThan(0);
    expect(wildcards).toEqual([]);
  });
});

/** The template of the app built with extra context (a fresh synth, without bundling). */
function templateWith(context: Record<string, unknown>): { Resources: Record<string, Resource>; Parameters?: Record<string, any>; Rules?: Record<string, any> } {
  const { app } = buildApp({ bundle: false, context });
  return app.synth().getStackByName(STACK_NAME).template;
}

/**
 * Evaluates a template rule's assertion the way CloudFormation does before a deploy: Ref to a
 * parameter is its value (here its default), with Fn::Not, Fn::Equals and Fn::Contains.
 */
function ruleHolds(assertion: unknown, parameters: Record<string, string>): boolean {
  const value = (node: any): unknown => {
    if (typeof node === 'string') return node;
    if (Array.isArray(node)) return node.map(value);
    if (node?.Ref) return parameters[node.Ref];
    if (node?.['Fn::Contains']) return (value(node['Fn::Contains'][0]) as unknown[]).includes(value(node['Fn::Contains'][1]));
    if (node?.['Fn::Not']) return !value(node['Fn::Not'][0]);
    if (node?.['Fn::Equals']) return value(node['Fn::Equals'][0]) === value(node['Fn::Equals'][1]);
    throw new Error(`unsupported rule function ${JSON.stringify(node)}`);
  };
  return value(assertion) === true;
}

function alarmsOf(templateResources: Record<string, Resource>): [string, Resource][] {
  return Object.entries(templateResources).filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm');
}

describe('operations', () => {
  const topics = Object.entries(resources as Record<string, Resource>).filter(([, resource]) => resource.Type === 'AWS::SNS::Topic');

  it('has one alarm topic, encrypted with a rotating key that CloudWatch may use', () => {
    // Prepare
    const [[, topic]] = topics as [[string, Resource]];

    // Act
    const key = resources[referencedId(topic.Properties?.KmsMasterKeyId) ?? '']!;
    const cloudWatchGrant = (key.Properties!.KeyPolicy.Statement as any[]).find((statement) => statement.Principal?.Service === 'cloudwatch.amazonaws.com');

    // Assert
    expect(topics).toHaveLength(1);
    expect(key.Type).toBe('AWS::KMS::Key');
    expect(key.Properties!.EnableKeyRotation).toBe(true);
    expect(cloudWatchGrant?.Action).toEqual(expect.arrayContaining(['kms:Decrypt', 'kms:GenerateDataKey*']));
  });

  it.each(['SweepErrorsAlarm', 'OrphansFoundAlarm', 'KillDeadLettersAlarm', 'WebhookDeadLettersAlarm'])('notifies the alarm topic from %s', (alarmName) => {
    // Prepare
    const [[topicId]] = topics as [[string, Resource]];

    // Act
    const alarm = alarmsOf(resources).find(([logicalId]) => logicalId.startsWith(alarmName))?.[1];

    // Assert
    expect(alarm?.Properties?.AlarmActions).toEqual([{ Ref: topicId }]);
  });

  it('subscribes no email to the alarm topic without the alarmEmail context value', () => {
    // Prepare: the template of the test run has no alarmEmail

    // Act
    const subscriptions = Object.values(resources as Record<string, Resource>).filter((resource) => resource.Type === 'AWS::SNS::Subscription');

    // Assert
    expect(subscriptions).toEqual([]);
  });

  it('subscribes the alarmEmail context value to the alarm topic by email', () => {
    // Prepare
    const withEmail = templateWith({ alarmEmail: 'oncall@example.com' });

    // Act
    const subscriptions = Object.values(withEmail.Resources).filter((resource) => resource.Type === 'AWS::SNS::Subscription');
    const [topicId] = Object.entries(withEmail.Resources).find(([, resource]) => resource.Type === 'AWS::SNS::Topic')!;

    // Assert
    expect(subscriptions.map((subscription) => subscription.Properties)).toEqual([
      { Protocol: 'email', Endpoint: 'oncall@example.com', TopicArn: { Ref: topicId } },
    ]);
  });

  it('protects the deployments table from deletion', () => {
    // Prepare
    const table = resources[synthesized.logicalIds.deploymentsTable]!;

    // Act
    const protectedReplicas = (table.Properties!.Replicas as any[]).map((replica) => replica.DeletionProtectionEnabled);

    // Assert
    expect(protectedReplicas).toEqual([true]);
  });

  it('refuses a deploy with the placeholder JWT issuer, with a message that says what to set', () => {
    // Prepare: the test run's template is synthesized without a jwtIssuer
    const { Parameters = {}, Rules = {} } = synthesized.template;
    const issuer = Parameters.JwtIssuer?.Default ?? '';

    // Act
    const failing = Object.values(Rules)
      .flatMap((rule) => rule.Assertions)
      .filter((assertion) => !ruleHolds(assertion.Assert, { JwtIssuer: issuer, BootstrapVersion: '99' }));

    // Assert
    expect(issuer).toBe(PLACEHOLDER_JWT_ISSUER);
    expect(failing.map((assertion) => assertion.AssertDescription)).toEqual([JWT_ISSUER_REQUIRED]);
    expect(JWT_ISSUER_REQUIRED).toContain('-c jwtIssuer=');
  });

  it('deploys with a real JWT issuer given as context', () => {
    // Prepare
    const real = templateWith({ jwtIssuer: 'https://issuer.example.org/' });
    const issuer = real.Parameters?.JwtIssuer?.Default;

    // Act
    const failing = Object.values(real.Rules ?? {})
      .flatMap((rule) => rule.Assertions as { Assert: unknown }[])
      .filter((assertion) => !ruleHolds(assertion.Assert, { JwtIssuer: issuer, BootstrapVersion: '99' }));

    // Assert
    expect(issuer).toBe('https://issuer.example.org/');
    expect(failing).toEqual([]);
  });
});

describe('lifecycle events', () => {
  const bus = synthesized.logicalIds.eventBus;
  const rules = Object.values(resources as Record<string, Resource>).filter((resource) => resource.Type === 'AWS::Events::Rule');
  const webhookRule = rules.find((rule) => referencedId(rule.Properties?.EventBusName) === bus);
  const publishers = (Object.keys(FUNCTION_ACCESS) as HandlerName[]).filter((name) => FUNCTION_ACCESS[name].publishesEvents);

  it('has its own event bus', () => {
    expect(resources[bus]?.Type).toBe('AWS::Events::EventBus');
  });

  it('publishes from every function that changes a status, and only from those', () => {
    // Prepare
    const putsEvents = (name: HandlerName) =>
      statementsOfFunction(name).some((statement) => actionsOf(statement).includes('events:PutEvents') && touches(statement, bus));

    // Act
    const granted = functionEntries.map(([, name]) => name).filter(putsEvents).sort();

    // Assert
    expect(granted).toEqual(
      ['apiCreateDeployment', 'apiCompleteDeployment', 'apiDeleteDeployment', 'create', 'start', 'health', 'kill', 'sweep', 'executionStatusChange'].sort(),
    );
    expect(publishers.sort()).toEqual(granted);
  });

  it.each(publishers)('tells %s the bus name', (name) => {
    // Prepare
    const variables = resources[logicalIdOf(name)]!.Properties!.Environment.Variables;

    // Act
    const busName = variables.EVENT_BUS_NAME;

    // Assert
    expect(busName).toEqual({ Ref: bus });
  });

  it('routes status changes of deployments with a callbackUrl to deliver-webhook, with retries and a dead-letter queue', () => {
    // Prepare
    const [target] = webhookRule?.Properties?.Targets ?? [];

    // Act
    const pattern = webhookRule?.Properties?.EventPattern;

    // Assert
    expect(pattern).toEqual({ source: ['coderunner'], 'detail-type': ['Deployment Status Changed'], detail: { callbackUrl: [{ exists: true }] } });
    expect(referencedId(target.Arn)).toBe(logicalIdOf('deliverWebhook'));
    expect(target.RetryPolicy).toMatchObject({ MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) });
    expect(resources[referencedId(target.DeadLetterConfig?.Arn) ?? '']?.Type).toBe('AWS::SQS::Queue');
  });

  it("retries deliver-webhook's failed invocations and then sends them to the same dead-letter queue, which has an alarm", () => {
    // Prepare
    const [target] = webhookRule?.Properties?.Targets ?? [];
    const deadLetters = referencedId(target.DeadLetterConfig?.Arn);

    // Act
    const invokeConfig = Object.values(resources as Record<string, Resource>).find(
      (resource) => resource.Type === 'AWS::Lambda::EventInvokeConfig' && referencedId(resource.Properties?.FunctionName) === logicalIdOf('deliverWebhook'),
    );
    const alarm = alarmsOf(resources).find(([logicalId]) => logicalId.startsWith('WebhookDeadLettersAlarm'))?.[1];

    // Assert
    expect(invokeConfig?.Properties?.MaximumRetryAttempts).toBe(2);
    expect(referencedId(invokeConfig?.Properties?.DestinationConfig?.OnFailure?.Destination)).toBe(deadLetters);
    expect(JSON.stringify(alarm?.Properties?.Dimensions)).toContain(deadLetters);
  });

  it('lets only the functions that sign webhooks or show the secret reach the webhook secrets table', () => {
    // Prepare
    const secretsTable = synthesized.logicalIds.webhookSecretsTable;

    // Act
    const roles = [...new Set(allStatements.filter(({ statement }) => touches(statement, secretsTable)).map(({ role }) => role))].sort();

    // Assert
    expect(roles).toEqual(['apiGetWebhookSecret', 'apiRotateWebhookSecret', 'deliverWebhook'].map((name) => roleOfFunction(logicalIdOf(name as HandlerName))).sort());
  });

  it.each(['apiGetWebhookSecret', 'apiRotateWebhookSecret', 'deliverWebhook'] as const)('gives %s no access to the deployments table', (name) => {
    // Prepare
    const statements = statementsOfFunction(name);

    // Act
    const onDeployments = statements.filter((statement) => touches(statement, synthesized.logicalIds.deploymentsTable));

    // Assert
    expect(onDeployments).toEqual([]);
  });

  it('protects the webhook secrets table from deletion and keeps its point-in-time recovery', () => {
    const table = resources[synthesized.logicalIds.webhookSecretsTable]!;

    expect(table.Properties!.Replicas[0]).toMatchObject({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
  });
});

interface NagFinding {
  rule: string;
  path: string;
  message: string;
}

interface ValidationReport {
  pluginReports: { pluginName: string; violations: { ruleName: string; description: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

/**
 * Synthesizes the app with the checks applied, as `npx cdk synth` does, and reads every finding
 * from the cloud assembly's validation report (a finding fails the synth itself).
 */
function synthesizeWithChecks(build: (outdir: string) => App): NagFinding[] {
  const outdir = mkdtempSync(join(tmpdir(), 'coderunner-nag-'));
  try {
    const app = build(outdir);
    const checks = applyNagChecks(app);
    const reportPath = join(outdir, 'validation-report.json');
    try {
      app.synth();
    } catch (error) {
      if (!existsSync(reportPath)) throw error;
    }
    // Written whenever a validation plugin ran: without it, the checks did not run at all.
    if (!existsSync(reportPath)) throw new Error('synth wrote no validation report: the cdk-nag checks did not run');
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as ValidationReport;
    return report.pluginReports
      .filter((pluginReport) => pluginReport.pluginName === checks.name)
      .flatMap((pluginReport) => pluginReport.violations)
      .flatMap((violation) =>
        violation.violatingConstructs.map((construct) => ({ rule: violation.ruleName, path: construct.constructPath, message: violation.description })),
      );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The reasons acknowledged on one construct itself (not inherited), by rule id. */
function acknowledgementsOn(construct: IConstruct): Record<string, string> {
  return Object.assign(
    {},
    ...construct.node.metadata.filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((entry) => entry.data as Record<string, string>),
  );
}

describe("cdk-nag's AWS Solutions checks", () => {
  it('report no finding that is neither fixed nor acknowledged', () => {
    // Prepare
    const build = (outdir: string) => buildApp({ bundle: false, outdir }).app;

    // Act
    const findings = synthesizeWithChecks(build);

    // Assert: each finding as "rule  construct path  message"
    expect(findings.map((finding) => `${finding.rule}  ${finding.path}  ${finding.message}`)).toEqual([]);
  });

  it('fail on a resource added without a fix or an acknowledgement', () => {
    // Prepare: a bucket without server access logs (AwsSolutions-S1)
    const build = (outdir: string) => {
      const { app, stack } = buildApp({ bundle: false, outdir });
      new Bucket(stack, 'UnloggedBucket', { enforceSSL: true });
      return app;
    };

    // Act
    const findings = synthesizeWithChecks(build);

    // Assert
    expect(findings).toContainEqual(expect.objectContaining({ rule: 'AwsSolutions-S1', path: 'CodeRunner/UnloggedBucket/Resource' }));
  });

  it('are acknowledged on constructs only, never on the app or the stack', () => {
    // Prepare
    const { app, stack } = buildApp({ bundle: false });

    // Act
    const blanket = { ...acknowledgementsOn(app), ...acknowledgementsOn(stack) };

    // Assert
    expect(blanket).toEqual({});
  });

  it('are acknowledged each with a reason', () => {
    // Prepare
    const { app } = buildApp({ bundle: false });

    // Act
    const acknowledged = app.node.findAll().flatMap((construct) =>
      Object.entries(acknowledgementsOn(construct)).map(([rule, reason]) => ({ rule, path: construct.node.path, reason })),
    );

    // Assert
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(acknowledged.filter(({ reason }) => reason.trim().length < 40)).toEqual([]);
  });
});
