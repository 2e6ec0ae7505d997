/**
 * `GET /deployments/{id}/logs?lines=N&since=T`: the last N lines (default 100, max 1,000) merged
 * from the app, its install, npm, PM2, the journal and app log files, each with its source and an
 * ISO timestamp, collected with one command in the sandbox.
 */
import { logsQuery } from '../shared/api/query-schemas.ts';
import { parseLogQueryParameters } from '../shared/deployments/logs/log-query.ts';
import { deploymentLogs } from '../shared/deployments/steps/operate-deployment.ts';
import { apiHandler, callerId, json, pathParameter, queryParameters } from '../shared/middleware/http-api.ts';
import { deploymentDependencies } from '../shared/runtime/dependencies.ts';

const appLogGlob = process.env.APP_LOG_GLOB || 'logs/**/*.log';

export const handler = apiHandler(async (event) => {
  const userId = callerId(event);
  const query = parseLogQueryParameters(queryParameters(event, logsQuery));
  const lines = await deploymentLogs(await deploymentDependencies(), userId, pathParameter(event, 'id'), { ...query, appLogGlob });
  return json(200, { lines });
});
