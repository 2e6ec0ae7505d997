/** `GET /quotas`: the caller's limits and what they use of them now. */
import { quotaUsage, userLimits } from '../shared/deployments/quotas/deployment-quotas.ts';
import { apiHandler, callerId, json } from '../shared/middleware/http-api.ts';
import { deploymentRepository, quotaStore } from '../shared/runtime/deployments-table.ts';
import { quotaDefaultsFromEnvironment } from '../shared/runtime/quota-defaults.ts';

export const handler = apiHandler(async (event) => {
  const userId = callerId(event);
  const dependencies = { quotas: quotaStore(), deployments: deploymentRepository() };
  const [limits, usage] = await Promise.all([userLimits(dependencies, userId, quotaDefaultsFromEnvironment()), quotaUsage(dependencies, userId)]);
  return json(200, { limits, usage });
});
