/**
 * A redeploy goes into a live sandbox of the caller's: the one named by `sandboxId`, or with
 * `reuse: true` the newest live one of the project (none: a fresh deployment).
 */
import type { Deployment } from '../deployment.ts';
import type { Uses } from '../dependencies.ts';
import { SandboxNotReusableError } from '../errors.ts';

const MAX_PAGES = 20;

export async function findReusableDeployment(
  dependencies: Uses<'deployments' | 'sandboxes'>,
  userId: string,
  request: { projectId: string; sandboxId?: string; reuse?: boolean },
): Promise<Deployment | undefined> {
  if (request.sandboxId) {
    const owner = await findRunningWithSandbox(dependencies, userId, request.sandboxId);
    if (!owner) throw new SandboxNotReusableError(`sandbox ${request.sandboxId} is not a running sandbox of yours`, 404);
    if (!(await dependencies.sandboxes.isAlive(request.sandboxId))) {
      throw new SandboxNotReusableError(`sandbox ${request.sandboxId} is no longer alive`, 409);
    }
    return owner;
  }
  if (!request.reuse) return undefined;
  const { items } = await dependencies.deployments.listByOwner(userId, { projectId: request.projectId, statuses: ['RUNNING'], limit: 5 });
  for (const candidate of items) {
    if (candidate.sandboxId && (await dependencies.sandboxes.isAlive(candidate.sandboxId))) return candidate;
  }
  return undefined;
}

async function findRunningWithSandbox(dependencies: Uses<'deployments'>, userId: string, sandboxId: string): Promise<Deployment | undefined> {
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const result = await dependencies.deployments.listByOwner(userId, { statuses: ['RUNNING'], limit: 50, nextToken });
    const found = result.items.find((deployment) => deployment.sandboxId === sandboxId);
    if (found || !result.nextToken) return found;
    nextToken = result.nextToken;
  }
  return undefined;
}
