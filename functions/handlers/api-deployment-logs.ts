/**
 * `GET /deployments/{id}/logs?lines=N&since=T&npmDebug=true`: the last N lines (default 100, max
 * 1,000) merged from the app, its install and build, PM2, the journal, app log files (and npm's
 * debug logs on request), each with its source and an ISO timestamp, collected with one command
 * in the sandbox. Once the deployment has ended: the logs saved before its sandbox was killed,
 * marked `saved`.
 */
import { logsQuery } from '../shared/api/query-schemas.ts';
import { DEFAULT_APP_LOG_GLOB } from '../shared/deployments/logs/app-log-glob.ts';
import { parseLogQueryParameters } from '../shared/deployments/logs/log-query.ts';
import { deploymentLogs } from '../shared/deployments/requests/operate-deployment.ts';
import { apiHandler, callerId, json, pathParameter, queryParameters } from '../shared/middleware/http-api.ts';
import { deploymentRepository } from '../shared/runtime/deployments-table.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { logArchive } from '../shared/runtime/staging-bucket.ts';

const appLogGlob = process.env.APP_LOG_GLOB || DEFAULT_APP_LOG_GLOB;

export const handler = apiHandler(async (event) => {
  const userId = callerId(event);
  const parameters = queryParameters(event, logsQuery);
  const query = parseLogQueryParameters(parameters);
  const logs = await deploymentLogs({ deployments: deploymentRepository(), sandboxes: sandboxProvider(), logArchive: logArchive() }, userId, pathParameter(event, 'id'), {
    ...query,
    appLogGlob,
    includeNpmDebug: parameters.npmDebug === 'true',
  });
  return json(200, logs);
});
