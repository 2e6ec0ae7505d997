/** `DELETE /deployments/{id}`: kill the sandbox and end TERMINATED. Idempotent. */
import { deploymentView } from '../shared/deployments/deployment-view.ts';
import { terminateDeployment } from '../shared/deployments/requests/terminate-deployment.ts';
import { apiHandler, callerId, json, pathParameter } from '../shared/middleware/http-api.ts';
import { deploymentRepository, quotaStore, sandboxOwnership } from '../shared/runtime/deployments-table.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { fileStaging, logArchive } from '../shared/runtime/staging-bucket.ts';

export const handler = apiHandler(async (event) => {
  const deployment = await terminateDeployment({ deployments: deploymentRepository(), sandboxes: sandboxProvider(), staging: fileStaging(), logArchive: logArchive(), ownership: sandboxOwnership(), quotas: quotaStore() }, callerId(event), pathParameter(event, 'id'));
  return json(200, deploymentView(deployment));
});
