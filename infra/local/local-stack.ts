/**
 * The whole system on one machine, with no cloud account: the handlers run in-process behind the
 * same kinds of endpoints they have in AWS.
 * - DynamoDB: dynalite, tables created from the synthesized template;
 * - S3: s3rver; Secrets Manager: a GetSecretValue endpoint;
 * - EventBridge: a PutEvents endpoint for the stack's bus, whose rules (from the template) invoke
 *   their target handlers with retries;
 * - Step Functions: the ASL extracted from the synthesized template, run by aws-local-stepfunctions,
 *   each Lambda task bound to its handler, behind a Step Functions API endpoint;
 * - API Gateway: an HTTP server that builds HTTP API v2 events and verifies JWTs signed locally;
 * - AgentSphere: the local sandbox host (or, when asked, the real AgentSphere).
 * Handlers find all of it through standard AWS SDK configuration (AWS_ENDPOINT_URL_<SERVICE>).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../project-root.ts';
import { PROBE_WAIT_STATE } from '../cdk/state-names.ts';
import { HANDLERS, ROUTES, type HandlerName } from '../cdk/handlers.ts';
import { routeAgentSphereToLocalHost } from './agentsphere-routing.ts';
import { createTableInput, ensureTable, startLocalDynamoDb } from './aws/local-dynamodb.ts';
import { startLocalS3, type CreatedObject } from './aws/local-s3.ts';
import { startS3PresignedGate, type GateDecision } from './aws/s3-presigned-gate.ts';
import { DEFAULT_EGRESS_ALLOW_LIST } from './sandbox-host/bubblewrap/egress-proxy.ts';
import { DEPENDENCY_CACHE_PREFIX } from '../../functions/shared/adapters/s3-dependency-cache.ts';
import { startLocalSecretsManager } from './aws/local-secrets-manager.ts';
import { startLocalEventBridge, type BusEvent, type LocalEventBridge } from './aws/local-eventbridge.ts';
import { createLocalJwtAuthority } from './http-api/local-jwt.ts';
import { startLocalHttpApi } from './http-api/local-http-api.ts';
import { startSandboxHost, type SandboxHost } from './sandbox-host/sandbox-host.ts';
import type { IsolationMode } from './sandbox-host/sandbox-isolation.ts';
import { LocalStepFunctions, type ExecutionStatusChangeEvent, type LocalLambdaHandler } from './step-functions/local-step-functions.ts';
import { resolveStateMachineDefinition } from './step-functions/resolve-definition.ts';
import { startStepFunctionsEndpoint } from './step-functions/sfn-endpoint.ts';
import { loadSynthesizedStack, type SynthesizedStack } from './synthesized-stack.ts';
import { createLambdaContext } from './lambda-context.ts';
import { configuredMemoryMb, LambdaInvocationMeter, type LambdaInvocation } from './lambda-invocations.ts';
import { startOperatorEndpoint } from './operator-endpoint.ts';
import type { SweepReport } from '../../functions/shared/deployments/sweep/sweep-report.ts';
import { STATUS_CHANGED, type DeploymentEvent } from '../../functions/shared/deployments/events/deployment-event.ts';

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const API_KEY_SECRET_NAME = 'coderunner/agentsphere-api-key';
const TABLE_NAMES = { deployments: 'coderunner-deployments', idempotency: 'coderunner-idempotency', webhookSecrets: 'coderunner-webhook-secrets' };
const STAGING_BUCKET = 'coderunner-staging';
const EVENT_BUS_NAME = 'coderunner-events';
/** s3rver only accepts its own key pair; the gate checks presigned URLs with it. */
const LOCAL_S3_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
/**
 * The local S3 (its presigned-URL gate) as sandboxes name it. Not a loopback name: a sandbox's
 * own loopback is not the host's, and its no_proxy sends loopback names past the egress proxy.
 */
export const SANDBOX_S3_HOST = 's3.coderunner.test';
/** App URLs are `http://<port>-<sandbox>.agentsphere.localhost:<host port>/`: loopback by name. */
export const LOCAL_SANDBOX_DOMAIN = 'agentsphere.localhost';
const STATE_MACHINE_ARN = `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:coderunner-deployments`;

export interface LocalStackOptions {
  /** Where state lives. Without it, a temporary directory that is removed on stop. */
  dataDir?: string;
  /** Port of the HTTP API (0: any free port). */
  apiPort?: number;
  /** Use the real AgentSphere (AGENTSPHERE_API_KEY must be set) instead of the local sandbox host. */
  realAgentSphere?: boolean;
  /** Milliseconds between health probes (the state machine's Wait); default: the definition's. */
  probeIntervalMs?: number;
  /** Replaces every Retry interval (milliseconds), for fast tests. */
  retryIntervalMs?: number;
  /** Extra handler configuration (e.g. HEALTH_TIMEOUT_SECONDS). */
  environment?: Record<string, string>;
  /** An already synthesized stack (tests synthesize once for all files). */
  synthesized?: SynthesizedStack;
  /** Wraps each Lambda handler (tests use it to inject faults into one step). */
  wrapHandler?: (name: HandlerName, handler: LocalLambdaHandler) => LocalLambdaHandler;
  onExecutionStatusChange?: (event: ExecutionStatusChangeEvent) => void;
  /** Sees every "Deployment Status Changed" event on the bus (the console prints each). */
  onDeploymentEvent?: (event: DeploymentEvent) => void;
  /**
   * The pause before the first retry of a failed rule target (e.g. a webhook delivery), doubling
   * after; Lambda waits about a minute. Default 1 s.
   */
  eventRetryDelayMs?: number;
  /** Run the sweep on a timer, like the cloud's schedule (0 or undefined: only on demand). */
  sweepIntervalMs?: number;
  /** Keep DynamoDB data on disk under the data directory, so a restart finds it. */
  persist?: boolean;
  /** A sandbox host running as its own process (`npm run sandbox-host`), instead of one in-process. */
  externalSandboxHost?: { url: string; apiKey: string; operatorKey?: string; domain?: string };
  /** How the in-process sandbox host isolates sandboxes (default `bubblewrap`). */
  isolation?: IsolationMode;
  /** `host:port` pairs sandboxes may reach (default: the npm registry); the local S3 gate is always added. */
  egressAllowList?: readonly string[];
  /** The key the operator endpoint (and the in-process sandbox host's `/_host/*`) requires; random by default. */
  operatorKey?: string;
}

export interface LocalStack {
  apiUrl: string;
  dataDir: string;
  /** A token for the local JWT authorizer. */
  issueToken(subject: string): Promise<string>;
  sandboxHost?: SandboxHost;
  stepFunctions: LocalStepFunctions;
  /** The stack's event bus: its rules and the events no retry could deliver. */
  eventBridge: LocalEventBridge;
  /** Operator endpoint: `POST /sweep` runs a sweep now. */
  operatorUrl: string;
  /** What the operator endpoint requires as `Authorization: Bearer <key>`. */
  operatorKey: string;
  /** Runs the sweep handler once, now. */
  sweep(): Promise<SweepReport>;
  /** DynamoDB requests served since start (or the last reset), by operation (the cost benchmark reads them). */
  dynamoDbRequests(): ReadonlyMap<string, number>;
  /** S3 requests answered since start (or the last reset), by operation, counted at the local S3 server. */
  s3Requests(): ReadonlyMap<string, number>;
  /** Lambda invocations that ended since start (or the last reset), every caller included, with duration and memory. */
  lambdaInvocations(): readonly LambdaInvocation[];
  /** Resolves once no Lambda invocation is running. */
  lambdasIdle(): Promise<void>;
  /** Starts the request counters (DynamoDB, S3, Lambda, EventBridge events) from zero. */
  resetCounters(): void;
  /** Objects written to the local S3 since start (tests count uploads at the server). */
  s3CreatedObjects(): readonly CreatedObject[];
  /**
   * The staging bucket's name and the local S3 endpoint (tests look at what is left); the
   * endpoint as sandboxes reach it (the presigned-URL gate, by the name their egress proxy
   * allows), and what the gate answered them.
   */
  s3: { endpoint: string; bucket: string; sandboxEndpoint: string; gateDecisions(): readonly GateDecision[] };
  /** A URL a person can open for a port of a sandbox (the local host's loopback proxy, or the cloud URL). */
  browserUrl(sandboxId: string, port: number): Promise<string>;
  stop(): Promise<void>;
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const temporary = !options.dataDir;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'coderunner-local-')));
  await mkdir(dataDir, { recursive: true });
  const stops: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    for (const step of stops.reverse()) await step();
    if (temporary) await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const synthesized = options.synthesized ?? (await loadSynthesizedStack());
    const operatorKey = options.operatorKey ?? `op_local_${randomBytes(16).toString('hex')}`;
    // S3 first: sandboxes reach it (through its gate) by a name their egress proxy allows.
    const s3 = await startLocalS3({ directory: join(dataDir, 's3'), buckets: [STAGING_BUCKET] });
    stops.push(() => s3.close());
    const s3Gate = await startS3PresignedGate({
      upstream: s3.endpoint,
      credentials: LOCAL_S3_CREDENTIALS,
      pathPrefixes: [`/${STAGING_BUCKET}/${DEPENDENCY_CACHE_PREFIX}`],
    });
    stops.push(() => s3Gate.close());
    const sandboxS3 = { host: SANDBOX_S3_HOST, port: s3Gate.port };
    const sandboxes = await startSandboxes(options, dataDir, operatorKey, stops, sandboxS3);
    let handlers: Record<HandlerName, LocalLambdaHandler>;

    const dynamoDb = await startLocalDynamoDb(options.persist ? { directory: join(dataDir, 'dynamodb') } : {});
    stops.push(() => dynamoDb.close());
    const secrets = await startLocalSecretsManager({ [API_KEY_SECRET_NAME]: sandboxes.apiKey });
    stops.push(() => secrets.close());

    const eventBridge = await startLocalEventBridge({
      template: synthesized.template,
      busLogicalId: synthesized.logicalIds.eventBus,
      busName: EVENT_BUS_NAME,
      region: LOCAL_REGION,
      account: LOCAL_ACCOUNT,
      // The handlers are loaded below; no event is published before they are.
      invoke: (functionLogicalId, event, timeoutMs) => {
        const name = synthesized.handlerByLogicalId[functionLogicalId]!;
        return invoke(handlers[name], name, event, timeoutMs);
      },
      ...(options.eventRetryDelayMs !== undefined ? { retryDelayMs: options.eventRetryDelayMs } : {}),
      onEvent: (event: BusEvent) => {
        if (event['detail-type'] !== STATUS_CHANGED) return;
        const { callbackUrl: _routing, ...detail } = event.detail;
        options.onDeploymentEvent?.(detail as unknown as DeploymentEvent);
      },
    });
    stops.push(() => eventBridge.close());

    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      // s3rver only accepts its own key pair; the other stand-ins accept any.
      AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoDb.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
      AWS_ENDPOINT_URL_EVENTBRIDGE: eventBridge.endpoint,
      EVENT_BUS_NAME,
      // Webhook receivers on this machine (the cloud accepts public https targets only).
      CALLBACK_URL_ALLOW_LOOPBACK: 'true',
      S3_FORCE_PATH_STYLE: 'true',
      DEPLOYMENTS_TABLE: TABLE_NAMES.deployments,
      IDEMPOTENCY_TABLE: TABLE_NAMES.idempotency,
      WEBHOOK_SECRETS_TABLE: TABLE_NAMES.webhookSecrets,
      STAGING_BUCKET,
      STATE_MACHINE_ARN,
      AGENTSPHERE_API_KEY_SECRET: API_KEY_SECRET_NAME,
      AGENTSPHERE_DOMAIN: sandboxes.domain,
      ...(sandboxes.appUrlScheme ? { SANDBOX_APP_URL_SCHEME: sandboxes.appUrlScheme } : {}),
      // The URLs sandboxes move dependency archives with name the gate, as their proxy knows it.
      ...(sandboxes.host ? { SANDBOX_S3_ENDPOINT_URL: `http://${sandboxS3.host}:${sandboxS3.port}` } : {}),
      ...options.environment,
    });
    const { template, logicalIds } = synthesized;
    const dynamoDbClient = new DynamoDBClient({ endpoint: dynamoDb.endpoint });
    await ensureTable(dynamoDbClient, createTableInput(template, logicalIds.deploymentsTable, TABLE_NAMES.deployments));
    await ensureTable(dynamoDbClient, createTableInput(template, logicalIds.idempotencyTable, TABLE_NAMES.idempotency));
    await ensureTable(dynamoDbClient, createTableInput(template, logicalIds.webhookSecretsTable, TABLE_NAMES.webhookSecrets));
    dynamoDbClient.destroy();

    // The local Lambda runtime's meter: every invocation, whoever makes it, with the function's MemorySize.
    const lambdaMeter = new LambdaInvocationMeter();
    const logicalIdOf = Object.fromEntries(Object.entries(synthesized.handlerByLogicalId).map(([logicalId, name]) => [name, logicalId]));
    handlers = await loadHandlers((name, handler) =>
      lambdaMeter.meter(name, configuredMemoryMb(template.Resources[logicalIdOf[name] ?? '']), options.wrapHandler ? options.wrapHandler(name, handler) : handler),
    );
    const stepFunctions = new LocalStepFunctions({
      definition: resolveStateMachineDefinition(template as Parameters<typeof resolveStateMachineDefinition>[0], logicalIds.stateMachine),
      stateMachineArn: STATE_MACHINE_ARN,
      handlers: Object.fromEntries(
        Object.entries(synthesized.handlerByLogicalId).map(([logicalId, name]) => [logicalId, handlers[name]]),
      ),
      ...(options.probeIntervalMs !== undefined ? { waitTimeOverrides: { [PROBE_WAIT_STATE]: options.probeIntervalMs } } : {}),
      ...(options.retryIntervalMs !== undefined ? { retryIntervalMs: options.retryIntervalMs } : {}),
      // The cloud's EventBridge rule: failed, timed-out and aborted executions get cleaned up.
      onStatusChange: async (event) => {
        if (['FAILED', 'TIMED_OUT', 'ABORTED'].includes(event.detail.status)) {
          await invoke(handlers.executionStatusChange, 'executionStatusChange', event, 110_000).catch((error: unknown) =>
            console.error('[local-stack] kill after execution status change failed', error),
          );
        }
        options.onExecutionStatusChange?.(event);
      },
    });
    const sfnEndpoint = await startStepFunctionsEndpoint(stepFunctions);
    process.env.AWS_ENDPOINT_URL_SFN = sfnEndpoint.url;
    stops.push(async () => {
      stepFunctions.stopAll({ error: 'LocalStackStopped', cause: 'the local stack is shutting down' });
      await sfnEndpoint.close();
    });

    // The cloud's schedule, and an operator endpoint to sweep on demand.
    let sweeping: Promise<SweepReport> | undefined;
    const sweep = () => {
      // One sweep at a time per process, as one scheduled Lambda would be.
      sweeping ??= (invoke(handlers.sweep, 'sweep', {}, 120_000) as Promise<SweepReport>).finally(() => {
        sweeping = undefined;
      });
      return sweeping;
    };
    if (options.sweepIntervalMs) {
      const timer = setInterval(() => void sweep().catch((error: unknown) => console.error('[local-stack] sweep failed', error)), options.sweepIntervalMs);
      timer.unref();
      stops.push(async () => {
        clearInterval(timer);
        await sweeping?.catch(() => undefined);
      });
    }
    const operator = await startOperatorEndpoint({ sweep, browserUrl: sandboxes.browserUrl }, { operatorKey });
    stops.push(() => operator.close());

    const jwt = await createLocalJwtAuthority({ keyFile: join(dataDir, 'jwt-signing-key.json') });
    const api = await startLocalHttpApi({
      port: options.apiPort ?? 0,
      jwt,
      routes: ROUTES.map((route) => ({
        routeKey: route.routeKey,
        handler: handlers[route.handler],
        functionName: route.handler,
        auth: route.public ? ('none' as const) : ('jwt' as const),
      })),
    });
    stops.push(() => api.close());

    return {
      apiUrl: api.url,
      dataDir,
      issueToken: (subject) => jwt.issueToken(subject),
      sandboxHost: sandboxes.host,
      dynamoDbRequests: () => dynamoDb.requests(),
      s3Requests: () => s3.requests(),
      lambdaInvocations: () => lambdaMeter.invocations(),
      lambdasIdle: () => lambdaMeter.idle(),
      resetCounters: () => {
        dynamoDb.resetRequests();
        s3.resetRequests();
        lambdaMeter.reset();
        eventBridge.resetPublishedEvents();
      },
      stepFunctions,
      eventBridge,
      operatorUrl: operator.url,
      operatorKey,
      sweep,
      s3CreatedObjects: () => s3.createdObjects(),
      s3: { endpoint: s3.endpoint, bucket: STAGING_BUCKET, sandboxEndpoint: `http://${sandboxS3.host}:${sandboxS3.port}`, gateDecisions: () => s3Gate.decisions() },
      browserUrl: sandboxes.browserUrl,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

interface Sandboxes {
  apiKey: string;
  /** AGENTSPHERE_DOMAIN: may carry a port. */
  domain: string;
  /** The scheme of app URLs when not the cloud's https. */
  appUrlScheme?: 'http';
  host?: SandboxHost;
  browserUrl(sandboxId: string, port: number): Promise<string>;
}

async function startSandboxes(
  options: LocalStackOptions,
  dataDir: string,
  operatorKey: string,
  stops: (() => Promise<void> | void)[],
  sandboxS3: { host: string; port: number },
): Promise<Sandboxes> {
  if (options.externalSandboxHost) {
    const { url, apiKey, domain = LOCAL_SANDBOX_DOMAIN, operatorKey: hostOperatorKey } = options.externalSandboxHost;
    stops.push(routeAgentSphereToLocalHost({ hostUrl: url, domain }));
    const browserUrl = async (sandboxId: string, port: number) => {
      if (!hostOperatorKey) throw new Error('browser URLs of an external sandbox host need its operator key (--sandbox-host-operator-key)');
      const response = await fetch(`${url}/_host/sandboxes/${encodeURIComponent(sandboxId)}/ports/${port}`, { headers: { authorization: `Bearer ${hostOperatorKey}` } });
      const body = (await response.json()) as { url?: string; message?: string };
      if (!response.ok || !body.url) throw new Error(body.message ?? `the sandbox host answered ${response.status}`);
      return body.url;
    };
    return { apiKey, domain: `${domain}:${new URL(url).port}`, appUrlScheme: 'http', browserUrl };
  }
  if (options.realAgentSphere) {
    const apiKey = process.env.AGENTSPHERE_API_KEY;
    if (!apiKey) throw new Error('--real-agentsphere needs AGENTSPHERE_API_KEY in the environment');
    const domain = process.env.AGENTSPHERE_DOMAIN ?? 'agentsphere.run';
    return { apiKey, domain, browserUrl: async (sandboxId, port) => `https://${port}-${sandboxId}.${domain}/` };
  }
  // Under .localhost, app URLs resolve to this machine in browsers and curl, with no setup.
  const host = await startSandboxHost({
    stateDir: join(dataDir, 'sandbox-host'),
    domain: LOCAL_SANDBOX_DOMAIN,
    operatorKey,
    ...(options.isolation ? { isolation: options.isolation } : {}),
    // Exactly the local S3 gate besides the rest: the name its presigned URLs carry, at loopback.
    egressAllowList: [...(options.egressAllowList ?? DEFAULT_EGRESS_ALLOW_LIST), `${sandboxS3.host}:${sandboxS3.port}=127.0.0.1`],
  });
  // Kill every sandbox before anything else stops (stops run in reverse order).
  stops.push(() => host.close());
  const unroute = routeAgentSphereToLocalHost({ hostUrl: host.url, domain: host.domain });
  stops.push(unroute);
  return {
    apiKey: host.apiKey,
    domain: host.sdkDomain,
    appUrlScheme: 'http',
    host,
    browserUrl: (sandboxId, port) => host.browserUrl(sandboxId, port),
  };
}

/** Invokes a handler in-process the way Lambda would (a fresh context with the function's timeout). */
function invoke(handler: LocalLambdaHandler, functionName: string, event: unknown, timeoutMs: number): Promise<unknown> {
  const context = createLambdaContext({
    functionName,
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:${functionName}`,
    timeoutMs,
  });
  return Promise.resolve(handler(event, context));
}

async function loadHandlers(wrap: LocalStackOptions['wrapHandler']): Promise<Record<HandlerName, LocalLambdaHandler>> {
  const entries = await Promise.all(
    (Object.keys(HANDLERS) as HandlerName[]).map(async (name) => {
      const module = (await import(pathToFileURL(join(PROJECT_ROOT, HANDLERS[name])).href)) as { handler: LocalLambdaHandler };
      return [name, wrap ? wrap(name, module.handler) : module.handler] as const;
    }),
  );
  return Object.fromEntries(entries) as Record<HandlerName, LocalLambdaHandler>;
}
