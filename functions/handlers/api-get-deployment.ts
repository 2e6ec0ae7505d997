/** `GET /deployments/{id}`: the caller's deployment; another caller's answers 404. */
import { deploymentView } from '../shared/deployments/deployment-view.ts';
import { DeploymentNotFoundError } from '../shared/deployments/errors.ts';
import { apiHandler, callerId, json, pathParameter } from '../shared/middleware/http-api.ts';
import { deploymentDependencies } from '../shared/runtime/dependencies.ts';

export const handler = apiHandler(async (event) => {
  const userId = callerId(event);
  const deploymentId = pathParameter(event, 'id');
  const deployment = await (await deploymentDependencies()).deployments.get(deploymentId);
  if (!deployment || deployment.userId !== userId) throw new DeploymentNotFoundError(deploymentId);
  return json(200, deploymentView(deployment));
});
