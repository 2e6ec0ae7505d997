/**
 * A redeploy goes into a live sandbox of the caller's: the one named by `sandboxId` (found
 * through its owner, never by scanning the caller's history), or with `reuse: true` the newest
 * live one of the project (none: a fresh deployment).
 */
import type { Deployment } from '../deployment.ts';
import type { Uses } from '../dependencies.ts';
import { SandboxNotReusableError } from '../errors.ts';

export async function findReusableDeployment(
  dependencies: Uses<'deployments' | 'sandboxes' | 'ownership'>,
  userId: string,
  request: { projectId: string; sandboxId?: string; reuse?: boolean },
): Promise<Deployment | undefined> {
  if (request.sandboxId) {
    const owner = await runningOwnerOf(dependencies, userId, request.sandboxId);
    if (!owner) throw new SandboxNotReusableError(`sandbox ${request.sandboxId} is not a running sandbox of yours`, 404);
    if (!(await dependencies.sandboxes.isAlive(request.sandboxId))) {
      throw new SandboxNotReusableError(`sandbox ${request.sandboxId} is no longer alive`, 409);
    }
    return owner;
  }
  if (!request.reuse) return undefined;
  const { items } = await dependencies.deployments.listActiveByOwner(userId, { projectId: request.projectId, limit: 10 });
  for (const candidate of items) {
    if (candidate.status === 'RUNNING' && candidate.sandboxId && (await dependencies.sandboxes.isAlive(candidate.sandboxId))) return candidate;
  }
  return undefined;
}

/** The caller's RUNNING deployment that owns the sandbox; another user's is as good as none. */
async function runningOwnerOf(dependencies: Uses<'deployments' | 'ownership'>, userId: string, sandboxId: string): Promise<Deployment | undefined> {
  const ownerId = await dependencies.ownership.ownerOf(sandboxId);
  // No ownership item: the creator owns it, one of the caller's few live deployments.
  const owner = ownerId
    ? await dependencies.deployments.get(ownerId)
    : (await dependencies.deployments.listActiveByOwner(userId)).items.find((deployment) => deployment.sandboxId === sandboxId);
  if (!owner || owner.userId !== userId || owner.status !== 'RUNNING' || owner.sandboxId !== sandboxId) return undefined;
  return owner;
}
