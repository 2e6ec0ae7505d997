/**
 * `POST /deployments/{id}/complete`: a manifest deployment's upload is done. The uploads are
 * checked against the manifest (400 naming each entry that is missing or whose bytes hash
 * differently, and nothing starts), then the saga starts. 409 when the deployment does not await
 * an upload (completed already, or ended).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DEFAULT_BLOB_BATCH_PLAN, completeUpload } from '../shared/deployments/manifest/complete-upload.ts';
import { UploadRefusedError } from '../shared/deployments/manifest/manifest-errors.ts';
import { deploymentView } from '../shared/deployments/deployment-view.ts';
import { DeploymentStateError } from '../shared/deployments/errors.ts';
import { apiHandler, callerId, HttpProblem, json, pathParameter } from '../shared/middleware/http-api.ts';
import { blobStore, stagedDocuments } from '../shared/runtime/blob-bucket.ts';
import { deploymentRepository, quotaStore, sandboxOwnership } from '../shared/runtime/deployments-table.ts';
import { quotaDefaultsFromEnvironment } from '../shared/runtime/quota-defaults.ts';
import { numberEnv } from '../shared/runtime/environment.ts';
import { logger, METRIC, metrics } from '../shared/runtime/observability.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { fileStaging, logArchive } from '../shared/runtime/staging-bucket.ts';
import { sagaWorkflows } from '../shared/runtime/workflows.ts';

const batchPlan = {
  maxBatchBytes: numberEnv('BLOB_BATCH_MAX_BYTES', DEFAULT_BLOB_BATCH_PLAN.maxBatchBytes),
  maxBatchFiles: numberEnv('BLOB_BATCH_MAX_FILES', DEFAULT_BLOB_BATCH_PLAN.maxBatchFiles),
};

export const handler = apiHandler(async (event) => {
  const userId = callerId(event);
  const deploymentId = pathParameter(event, 'id');
  try {
    const deployment = await completeUpload(
      {
        deployments: deploymentRepository(),
        staging: fileStaging(),
        sandboxes: sandboxProvider(),
        workflows: sagaWorkflows(),
        ownership: sandboxOwnership(),
        quotas: quotaStore(),
        logArchive: logArchive(),
        blobs: blobStore(),
        documents: stagedDocuments(),
      },
      { userId, deploymentId, batchPlan, quotaDefaults: quotaDefaultsFromEnvironment() },
    );
    logger.info('manifest deployment uploaded', { deploymentId, filesToWrite: deployment.upload?.filesToWrite, batches: deployment.batchesTotal });
    metrics.addMetric(METRIC.deploymentsStarted, MetricUnit.Count, 1);
    return json(202, deploymentView(deployment));
  } catch (error) {
    if (error instanceof UploadRefusedError) throw new HttpProblem(400, 'the upload does not match the manifest; nothing was started', { errors: error.problems });
    if (error instanceof DeploymentStateError) throw new HttpProblem(409, error.message);
    throw error;
  }
}, { emitsMetrics: true });
