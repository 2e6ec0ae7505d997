/**
 * `POST /deployments`: validates the project (limits are checked before anything is created),
 * stages its files and starts the saga. Answers 202 with the deployment. An `Idempotency-Key`
 * header makes a retried POST return the original deployment.
 */
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DEFAULT_LIMITS, deploymentRequestSchema, describeIssues, type DeploymentLimits, type DeploymentRequest } from '../shared/deployments/deployment-request.ts';
import { DEFAULT_BATCH_PLAN } from '../shared/deployments/batches.ts';
import { deploymentView, type DeploymentView } from '../shared/deployments/deployment-view.ts';
import { submitDeployment } from '../shared/deployments/requests/submit-deployment.ts';
import { apiHandler, callerId, HttpProblem, json, type ApiEvent } from '../shared/middleware/http-api.ts';
import { deploymentRepository, dynamoDbClient, quotaStore, sandboxOwnership } from '../shared/runtime/deployments-table.ts';
import { quotaDefaultsFromEnvironment } from '../shared/runtime/quota-defaults.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { fileStaging, logArchive } from '../shared/runtime/staging-bucket.ts';
import { sagaWorkflows } from '../shared/runtime/workflows.ts';
import { callbackUrlPolicy } from '../shared/runtime/callback-url-policy.ts';
import { numberEnv, requiredEnv } from '../shared/runtime/environment.ts';
import { logger, METRIC, metrics } from '../shared/runtime/observability.ts';
import { manifestLimitsFromEnvironment, uploadSettingsFromEnvironment } from '../shared/deployments/manifest/manifest-limits.ts';
import { isManifestBody, manifestRequestSchema, type ManifestRequest } from '../shared/deployments/manifest/manifest-request.ts';
import { ManifestContentNeededError } from '../shared/deployments/manifest/manifest-errors.ts';
import { submitManifestDeployment } from '../shared/deployments/manifest/submit-manifest-deployment.ts';
import { blobStore, stagedDocuments } from '../shared/runtime/blob-bucket.ts';

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function limitsFromEnvironment(): DeploymentLimits {
  return {
    ...DEFAULT_LIMITS,
    maxFiles: numberEnv('MAX_FILES', DEFAULT_LIMITS.maxFiles),
    maxFileBytes: numberEnv('MAX_FILE_BYTES', DEFAULT_LIMITS.maxFileBytes),
    maxTotalBytes: numberEnv('MAX_TOTAL_BYTES', DEFAULT_LIMITS.maxTotalBytes),
    maxTimeoutSeconds: numberEnv('MAX_SANDBOX_LIFETIME_SECONDS', DEFAULT_LIMITS.maxTimeoutSeconds),
  };
}

const requestSchema = deploymentRequestSchema(limitsFromEnvironment(), callbackUrlPolicy());
const manifestSchema = manifestRequestSchema(manifestLimitsFromEnvironment(), limitsFromEnvironment(), callbackUrlPolicy());
const uploadSettings = uploadSettingsFromEnvironment();

interface SubmitInput {
  userId: string;
  idempotencyKey?: string;
  request: DeploymentRequest | ManifestRequest;
}

/** A manifest deployment's answer: the deployment, and how to upload what the service lacks. */
type SubmitAnswer =
  | DeploymentView
  | (Omit<DeploymentView, 'upload'> & {
      upload: Omit<NonNullable<DeploymentView['upload']>, 'parts'> & { partsTotal: number; blobs: { sha256: string; size: number }[]; parts: unknown[]; complete: string };
    });

const batchPlan = {
  maxBatchBytes: numberEnv('BATCH_MAX_BYTES', DEFAULT_BATCH_PLAN.maxBatchBytes),
  maxBatchFiles: numberEnv('BATCH_MAX_FILES', DEFAULT_BATCH_PLAN.maxBatchFiles),
};

/** What the build plan may assume about the sandboxes: the domain their ports are served on. */
const sandbox = { domain: process.env.AGENTSPHERE_DOMAIN ?? 'agentsphere.run' };

async function submit({ userId, request }: SubmitInput): Promise<SubmitAnswer> {
  if ('manifest' in request) return submitManifest(userId, request);
  const deployment = await submitDeployment(
    {
      deployments: deploymentRepository(),
      staging: fileStaging(),
      workflows: sagaWorkflows(),
      sandboxes: sandboxProvider(),
      ownership: sandboxOwnership(),
      quotas: quotaStore(),
      logArchive: logArchive(),
    },
    { userId, request, batchPlan, sandbox, quotaDefaults: quotaDefaultsFromEnvironment() },
  );
  logger.info('deployment accepted', { deploymentId: deployment.deploymentId, files: deployment.filesTotal, batches: deployment.batchesTotal });
  metrics.addMetric(METRIC.deploymentsStarted, MetricUnit.Count, 1);
  return deploymentView(deployment);
}

async function submitManifest(userId: string, request: ManifestRequest): Promise<SubmitAnswer> {
  try {
    const { deployment, blobs, parts } = await submitManifestDeployment(
      {
        deployments: deploymentRepository(),
        staging: fileStaging(),
        sandboxes: sandboxProvider(),
        ownership: sandboxOwnership(),
        quotas: quotaStore(),
        logArchive: logArchive(),
        blobs: blobStore(),
        documents: stagedDocuments(),
      },
      { userId, request, settings: uploadSettings, sandbox, quotaDefaults: quotaDefaultsFromEnvironment() },
    );
    logger.info('manifest deployment awaits its upload', { deploymentId: deployment.deploymentId, files: deployment.filesTotal, parts: parts.length });
    const view = deploymentView(deployment);
    const { parts: partsTotal, ...summary } = view.upload!;
    return { ...view, upload: { ...summary, partsTotal, blobs, parts, complete: `${view.links.self}/complete` } };
  } catch (error) {
    if (error instanceof ManifestContentNeededError) throw new HttpProblem(400, 'the deployment request is invalid', { errors: error.problems });
    throw error;
  }
}

const idempotencyConfig = new IdempotencyConfig({
  // Keys are per caller: two users may pick the same key.
  eventKeyJmesPath: '[userId, idempotencyKey]',
  // The same key with a different body is a client bug, answered 422.
  payloadValidationJmesPath: 'request',
  expiresAfterSeconds: 24 * 3600,
});

let idempotentSubmit: ((input: SubmitInput) => Promise<SubmitAnswer>) | undefined;

function submitOnce(): (input: SubmitInput) => Promise<SubmitAnswer> {
  idempotentSubmit ??= makeIdempotent(submit, {
    persistenceStore: new DynamoDBPersistenceLayer({ tableName: requiredEnv('IDEMPOTENCY_TABLE'), awsSdkV3Client: dynamoDbClient() }),
    config: idempotencyConfig,
  });
  return idempotentSubmit;
}

function parseBody(event: ApiEvent): unknown {
  const contentType = event.headers['content-type'] ?? '';
  if (!/^application\/json\b/i.test(contentType)) throw new HttpProblem(415, 'the body must be JSON (content-type: application/json)');
  const text = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64').toString('utf8') : (event.body ?? '');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpProblem(400, 'the body is not valid JSON');
  }
}

export const handler = apiHandler(async (event, context) => {
  const userId = callerId(event);
  const body = parseBody(event);
  const parsed = isManifestBody(body) ? manifestSchema.safeParse(body) : requestSchema.safeParse(body);
  if (!parsed.success) {
    throw new HttpProblem(400, 'the deployment request is invalid', { errors: describeIssues(parsed.error.issues) });
  }
  const idempotencyKey = event.headers['idempotency-key'];
  if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    throw new HttpProblem(400, 'the Idempotency-Key header must be 1-255 visible ASCII characters');
  }
  let view: SubmitAnswer;
  if (idempotencyKey) {
    idempotencyConfig.registerLambdaContext(context);
    view = await submitOnce()({ userId, idempotencyKey, request: parsed.data });
  } else {
    view = await submit({ userId, request: parsed.data });
  }
  return json(202, view, { location: view.links.self });
}, { emitsMetrics: true });
