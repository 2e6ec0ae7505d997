/**
 * The commit point of a redeploy, last before its saga starts: the previous deployment's sandbox
 * changes owner in one conditional write, its live-sandbox slot comes with it, and the previous
 * deployment ends TERMINATED naming its successor. Until then the sandbox and its app stay the
 * previous deployment's, whatever dies.
 */
import type { Deployment } from '../deployment.ts';
import type { Uses } from '../dependencies.ts';
import { IllegalTransitionError, SandboxNotReusableError } from '../errors.ts';
import { releaseQuotaSlots, takeOverLiveSlot, type QuotaSlots } from '../quotas/deployment-quotas.ts';

/**
 * Hands `previous`'s sandbox to `deployment`; SandboxNotReusableError (409) when it was taken
 * over or ended meanwhile. Answers the quota slots the redeploy holds afterwards.
 */
export async function handOverSandbox(
  dependencies: Uses<'deployments' | 'ownership' | 'quotas'>,
  previous: Deployment,
  deployment: Pick<Deployment, 'deploymentId' | 'userId'> & { quotaSlots: QuotaSlots },
): Promise<QuotaSlots> {
  const { deploymentId } = deployment;
  const handedOver = await dependencies.ownership.handOver(previous.sandboxId!, previous.deploymentId, deploymentId);
  if (!handedOver) throw new SandboxNotReusableError(`sandbox ${previous.sandboxId} was taken over or ended while redeploying; try again`, 409);
  const quotaSlots = { ...deployment.quotaSlots };
  const liveSlot = await takeOverLiveSlot(dependencies, previous, deploymentId);
  if (liveSlot !== undefined) {
    // A slot of its own (taken when no predecessor was found yet) is one too many now.
    if (quotaSlots.liveSandboxes !== undefined) {
      await releaseQuotaSlots(dependencies, { ...deployment, quotaSlots }, ['liveSandboxes']);
    }
    quotaSlots.liveSandboxes = liveSlot;
    await dependencies.deployments.update(deploymentId, { quotaSlots });
  }
  await endReplaced(dependencies, previous, deploymentId);
  return quotaSlots;
}

/**
 * The replaced deployment ends TERMINATED, naming its successor. After the hand-over nothing of
 * it can kill the sandbox (its owner is the redeploy), so a concurrent keep-alive or DELETE is
 * harmless: the write only needs a legal predecessor.
 */
async function endReplaced(dependencies: Uses<'deployments'>, previous: Deployment, deploymentId: string): Promise<void> {
  try {
    await dependencies.deployments.transition(previous.deploymentId, 'TERMINATED', { replacedBy: deploymentId });
  } catch (error) {
    if (!(error instanceof IllegalTransitionError)) throw error;
    // Ended meanwhile (a DELETE, an expiry): it still hands its sandbox on, and says to whom.
    await dependencies.deployments.update(previous.deploymentId, { replacedBy: deploymentId });
  }
}
