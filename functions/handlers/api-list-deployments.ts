/** `GET /deployments?projectId=&status=&limit=&nextToken=`: the caller's deployment history, newest first. */
import { listDeploymentsQuery } from '../shared/api/query-schemas.ts';
import { deploymentView } from '../shared/deployments/deployment-view.ts';
import { apiHandler, callerId, json, queryParameters } from '../shared/middleware/http-api.ts';
import { deploymentRepository } from '../shared/runtime/deployments-table.ts';

export const handler = apiHandler(async (event) => {
  const userId = callerId(event);
  const query = queryParameters(event, listDeploymentsQuery);
  const page = await deploymentRepository().listByOwner(userId, {
    ...(query.projectId ? { projectId: query.projectId } : {}),
    ...(query.status ? { statuses: [query.status] } : {}),
    limit: query.limit,
    ...(query.nextToken ? { nextToken: query.nextToken } : {}),
  });
  return json(200, { items: page.items.map((deployment) => deploymentView(deployment)), nextToken: page.nextToken ?? null });
});
