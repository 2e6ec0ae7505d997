/** `GET /deployments/{id}/health`: a live probe now, or the sandbox's own state when the app does not answer. */
import { liveHealth } from '../shared/deployments/steps/operate-deployment.ts';
import { apiHandler, callerId, json, pathParameter } from '../shared/middleware/http-api.ts';
import { deploymentDependencies } from '../shared/runtime/dependencies.ts';

export const handler = apiHandler(async (event) =>
  json(200, await liveHealth(await deploymentDependencies(), callerId(event), pathParameter(event, 'id'))),
);
