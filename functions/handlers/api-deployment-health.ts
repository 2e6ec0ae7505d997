/** `GET /deployments/{id}/health`: a live probe now, or the sandbox's own state when the app does not answer. */
import { liveHealth } from '../shared/deployments/requests/operate-deployment.ts';
import { apiHandler, callerId, json, pathParameter } from '../shared/middleware/http-api.ts';
import { deploymentRepository } from '../shared/runtime/deployments-table.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';

export const handler = apiHandler(async (event) =>
  json(200, await liveHealth({ deployments: deploymentRepository(), sandboxes: sandboxProvider() }, callerId(event), pathParameter(event, 'id'))),
);
