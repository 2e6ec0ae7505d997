/** Query strings and small bodies of the API; the handlers validate with these and the OpenAPI document is generated from them. */
import * as z from 'zod';
import { DEPLOYMENT_STATUSES } from '../deployments/deployment-status.ts';
import { projectIdSchema as projectId } from '../deployments/project-id.ts';

const limit = z.coerce.number().int('must be an integer').min(1, 'must be between 1 and 100').max(100, 'must be between 1 and 100').default(25);
const nextToken = z.string().min(1).max(2048).optional();

export const listDeploymentsQuery = z.strictObject({
  projectId: projectId.optional(),
  status: z.enum(DEPLOYMENT_STATUSES, { message: `must be one of ${DEPLOYMENT_STATUSES.join(', ')}` }).optional(),
  limit,
  nextToken,
});

export const listSandboxesQuery = z.strictObject({ projectId: projectId.optional(), limit, nextToken });

export const logsQuery = z.strictObject({
  lines: z.string().regex(/^\d+$/, 'must be an integer from 1 to 1000').optional(),
  since: z.string().optional().describe('ISO-8601 timestamp with a zone'),
  npmDebug: z.enum(['true', 'false'], { message: 'must be true or false' }).optional().describe("include npm's debug logs (left out by default)"),
});

export const keepaliveBody = z.strictObject({
  seconds: z.number().int('must be an integer').describe('the sandbox lives this long from now'),
});
