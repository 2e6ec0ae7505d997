/** `DELETE /deployments/{id}`: kill the sandbox and end TERMINATED. Idempotent. */
import { deploymentView } from '../shared/deployments/deployment-view.ts';
import { terminateDeployment } from '../shared/deployments/steps/terminate-deployment.ts';
import { apiHandler, callerId, json, pathParameter } from '../shared/middleware/http-api.ts';
import { deploymentDependencies } from '../shared/runtime/dependencies.ts';

export const handler = apiHandler(async (event) => {
  const deployment = await terminateDeployment(await deploymentDependencies(), callerId(event), pathParameter(event, 'id'));
  return json(200, deploymentView(deployment));
});
