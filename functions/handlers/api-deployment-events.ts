/** `GET /deployments/{id}/events`: the deployment's status changes, oldest first; another caller's answers 404. */
import { loadOwnDeployment } from '../shared/deployments/requests/load-own-deployment.ts';
import { apiHandler, callerId, json, pathParameter } from '../shared/middleware/http-api.ts';
import { deploymentRepository, eventHistory } from '../shared/runtime/deployments-table.ts';

export const handler = apiHandler(async (event) => {
  const deployment = await loadOwnDeployment(deploymentRepository(), callerId(event), pathParameter(event, 'id'));
  return json(200, { items: await eventHistory().list(deployment.deploymentId) });
});
