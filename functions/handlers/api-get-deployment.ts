/** `GET /deployments/{id}`: the caller's deployment; another caller's answers 404. */
import { deploymentView } from '../shared/deployments/deployment-view.ts';
import { loadOwnDeployment } from '../shared/deployments/requests/load-own-deployment.ts';
import { apiHandler, callerId, json, pathParameter } from '../shared/middleware/http-api.ts';
import { deploymentRepository } from '../shared/runtime/deployments-table.ts';

export const handler = apiHandler(async (event) => {
  const userId = callerId(event);
  const deploymentId = pathParameter(event, 'id');
  const deployment = await loadOwnDeployment(deploymentRepository(), userId, deploymentId);
  return json(200, deploymentView(deployment));
});
