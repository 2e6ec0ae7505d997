/** `POST /deployments/{id}/keepalive` `{"seconds": N}`: the sandbox lives N seconds from now (bounded). */
import { keepaliveBody } from '../shared/api/query-schemas.ts';
import { deploymentView } from '../shared/deployments/deployment-view.ts';
import { extendLifetime } from '../shared/deployments/requests/operate-deployment.ts';
import { apiHandler, callerId, HttpProblem, json, pathParameter } from '../shared/middleware/http-api.ts';
import { deploymentRepository, quotaStore } from '../shared/runtime/deployments-table.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { quotaDefaultsFromEnvironment } from '../shared/runtime/quota-defaults.ts';


export const handler = apiHandler(async (event) => {
  const userId = callerId(event);
  let body: unknown;
  try {
    body = JSON.parse(event.body ?? '{}');
  } catch {
    throw new HttpProblem(400, 'the body is not valid JSON');
  }
  const parsed = keepaliveBody.safeParse(body);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((issue) => ({ field: issue.path.join('.') || '(body)', rule: issue.message }));
    throw new HttpProblem(400, 'the keep-alive request is invalid', { errors });
  }
  const deployment = await extendLifetime(
    { deployments: deploymentRepository(), sandboxes: sandboxProvider(), quotas: quotaStore() },
    userId,
    pathParameter(event, 'id'),
    parsed.data.seconds,
    quotaDefaultsFromEnvironment(),
  );
  return json(200, deploymentView(deployment));
});
