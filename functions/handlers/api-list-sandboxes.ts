/**
 * `GET /sandboxes?projectId=&limit=&nextToken=`: the caller's live sandboxes, newest first. With
 * projectId, the first item is the caller's live sandbox for that project (findUserSandbox).
 */
import { listSandboxesQuery } from '../shared/api/query-schemas.ts';
import { sandboxView } from '../shared/deployments/sandbox-view.ts';
import { apiHandler, callerId, json, queryParameters } from '../shared/middleware/http-api.ts';
import { deploymentRepository } from '../shared/runtime/deployments-table.ts';

export const handler = apiHandler(async (event) => {
  const userId = callerId(event);
  const query = queryParameters(event, listSandboxesQuery);
  // A sparse index of the caller's deployments with a live sandbox: never their whole history.
  const page = await deploymentRepository().listActiveByOwner(userId, {
    ...(query.projectId ? { projectId: query.projectId } : {}),
    limit: query.limit,
    ...(query.nextToken ? { nextToken: query.nextToken } : {}),
  });
  const items = page.items.filter((deployment) => deployment.sandboxId).map(sandboxView);
  return json(200, { items, nextToken: page.nextToken ?? null });
});
