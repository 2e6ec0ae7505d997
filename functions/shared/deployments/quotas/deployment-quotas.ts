/**
 * Taking and giving back a deployment's quota: a slot of "deployments in flight" until it runs
 * or ends, a slot of "live sandboxes" until it ends (a redeploy takes over its predecessor's),
 * and one start in the current minute. Taking is atomic per slot (a conditional write), so many
 * parallel requests get exactly the limit. Slots whose holder ended without giving them back (a
 * crash) are reclaimed when the user reaches the limit, so usage always equals what is live.
 */
import type { Deployment } from '../deployment.ts';
import { isTerminal, SAGA_STATUSES } from '../deployment-status.ts';
import { nowOf, type Uses } from '../dependencies.ts';
import { LifetimeOutOfBoundsError, QuotaExceededError } from '../errors.ts';
import { limitsFor, QUOTA_WORDS, type QuotaLimits, type SlotQuota } from './quota-limits.ts';

export type QuotaSlots = NonNullable<Deployment['quotaSlots']>;

/** A slot whose holder has no record yet may belong to a request still creating it. */
const UNRECORDED_HOLDER_GRACE_MS = 60_000;
const RETRY_AFTER_SECONDS: Record<SlotQuota, number> = { deploymentsInFlight: 15, liveSandboxes: 60 };

export interface QuotaUsage {
  liveSandboxes: number;
  deploymentsInFlight: number;
  deploymentsPerMinute: number;
}

export async function userLimits(dependencies: Uses<'quotas'>, userId: string, defaults: QuotaLimits): Promise<QuotaLimits> {
  return limitsFor(defaults, await dependencies.quotas.limitsOverride(userId));
}

/**
 * Takes the quota of a new deployment; QuotaExceededError (nothing held) when a limit is
 * reached. A redeploy takes no live-sandbox slot of its own: it takes over its predecessor's.
 */
export async function reserveQuotas(
  dependencies: Uses<'quotas' | 'deployments'>,
  input: { userId: string; deploymentId: string; limits: QuotaLimits; timeoutSeconds: number; redeploy: boolean },
): Promise<QuotaSlots> {
  const { userId, deploymentId, limits } = input;
  if (input.timeoutSeconds > limits.maxSandboxLifetimeSeconds) {
    throw new LifetimeOutOfBoundsError(
      `options.timeoutSeconds must be at most ${limits.maxSandboxLifetimeSeconds} (your quota: ${QUOTA_WORDS.maxSandboxLifetimeSeconds})`,
    );
  }
  const slots: QuotaSlots = {};
  try {
    slots.deploymentsInFlight = await takeSlot(dependencies, userId, 'deploymentsInFlight', limits.deploymentsInFlight, deploymentId);
    if (!input.redeploy) slots.liveSandboxes = await takeSlot(dependencies, userId, 'liveSandboxes', limits.liveSandboxes, deploymentId);
    await countStart(dependencies, userId, limits.deploymentsPerMinute);
    return slots;
  } catch (error) {
    await releaseQuotaSlots(dependencies, { userId, deploymentId, quotaSlots: slots });
    throw error;
  }
}

/** Gives back the slots a deployment holds (those named); idempotent. */
export async function releaseQuotaSlots(
  dependencies: Uses<'quotas'>,
  deployment: Pick<Deployment, 'userId' | 'deploymentId' | 'quotaSlots'>,
  which: readonly SlotQuota[] = ['deploymentsInFlight', 'liveSandboxes'],
): Promise<void> {
  await Promise.all(
    which.map(async (quota) => {
      const slot = deployment.quotaSlots?.[quota];
      if (slot !== undefined) await dependencies.quotas.releaseSlot(deployment.userId, quota, slot, deployment.deploymentId);
    }),
  );
}

/** A redeploy takes over its predecessor's live-sandbox slot with its sandbox. */
export async function takeOverLiveSlot(dependencies: Uses<'quotas'>, previous: Deployment, deploymentId: string): Promise<number | undefined> {
  const slot = previous.quotaSlots?.liveSandboxes;
  if (slot === undefined) return undefined;
  const moved = await dependencies.quotas.transferSlot(previous.userId, 'liveSandboxes', slot, previous.deploymentId, deploymentId);
  return moved ? slot : undefined;
}

/**
 * A live-sandbox slot for a deployment that reserved none (it meant to redeploy into a sandbox
 * that has ended since); QuotaExceededError when the user holds the limit.
 */
export async function takeLiveSandboxSlot(
  dependencies: Uses<'quotas' | 'deployments'>,
  input: { userId: string; deploymentId: string; limits: QuotaLimits },
): Promise<number> {
  return takeSlot(dependencies, input.userId, 'liveSandboxes', input.limits.liveSandboxes, input.deploymentId);
}

/** What a user holds now (stale slots reclaimed first, so the figures are what is live). */
export async function quotaUsage(dependencies: Uses<'quotas' | 'deployments'>, userId: string): Promise<QuotaUsage> {
  await Promise.all([reclaimStale(dependencies, userId, 'liveSandboxes'), reclaimStale(dependencies, userId, 'deploymentsInFlight')]);
  const held = await dependencies.quotas.heldSlots(userId);
  return {
    liveSandboxes: held.filter((slot) => slot.quota === 'liveSandboxes').length,
    deploymentsInFlight: held.filter((slot) => slot.quota === 'deploymentsInFlight').length,
    deploymentsPerMinute: await dependencies.quotas.startsIn(userId, minuteOf(nowOf(dependencies))),
  };
}

/** The latest a keep-alive may let the sandbox live: its creation plus the user's longest lifetime. */
export function latestEnd(deployment: Pick<Deployment, 'sandboxCreatedAt' | 'createdAt'>, limits: QuotaLimits): Date {
  const created = new Date(deployment.sandboxCreatedAt ?? deployment.createdAt).getTime();
  return new Date(created + limits.maxSandboxLifetimeSeconds * 1000);
}

/**
 * A redeploy's lifetime: what it asks for, but never past the latest end of the sandbox it takes
 * over (its creation plus the user's longest lifetime), so that redeploying cannot keep a sandbox
 * alive longer than keep-alives can.
 */
export function redeployLifetimeSeconds(
  previous: Pick<Deployment, 'sandboxCreatedAt' | 'createdAt'>,
  limits: QuotaLimits,
  requestedSeconds: number,
  now: Date,
): number {
  const left = Math.floor((latestEnd(previous, limits).getTime() - now.getTime()) / 1000);
  return Math.max(1, Math.min(requestedSeconds, left));
}

async function takeSlot(dependencies: Uses<'quotas' | 'deployments'>, userId: string, quota: SlotQuota, limit: number, holder: string): Promise<number> {
  const slot = (await dependencies.quotas.takeSlot(userId, quota, limit, holder))
    ?? ((await reclaimStale(dependencies, userId, quota)) > 0 ? await dependencies.quotas.takeSlot(userId, quota, limit, holder) : undefined);
  if (slot !== undefined) return slot;
  const used = (await dependencies.quotas.heldSlots(userId, quota)).length;
  const advice = quota === 'liveSandboxes'
    ? 'end one (DELETE /deployments/{id}, or coderunner kill), or redeploy into one of them (reuse or sandboxId)'
    : 'retry when one of them is running or has ended';
  throw new QuotaExceededError(`quota reached: ${QUOTA_WORDS[quota]}: ${used} of ${limit} in use; ${advice}`, {
    quota,
    used,
    limit,
    retryAfterSeconds: RETRY_AFTER_SECONDS[quota],
  });
}

async function countStart(dependencies: Uses<'quotas'>, userId: string, limit: number): Promise<void> {
  const now = nowOf(dependencies);
  const { counted, count } = await dependencies.quotas.countStart(userId, minuteOf(now), limit);
  if (counted) return;
  const retryAfterSeconds = Math.max(1, 60 - now.getUTCSeconds());
  throw new QuotaExceededError(
    `quota reached: ${QUOTA_WORDS.deploymentsPerMinute}: ${count} of ${limit} this minute; retry in ${retryAfterSeconds} s`,
    { quota: 'deploymentsPerMinute', used: count, limit, retryAfterSeconds },
  );
}

/** Frees slots whose holder ended (or, for in-flight slots, is no longer in flight); answers how many. */
async function reclaimStale(dependencies: Uses<'quotas' | 'deployments'>, userId: string, quota: SlotQuota): Promise<number> {
  const held = await dependencies.quotas.heldSlots(userId, quota);
  const now = nowOf(dependencies).getTime();
  let freed = 0;
  for (const slot of held) {
    const record = await dependencies.deployments.get(slot.holder);
    const stale = record
      ? isTerminal(record.status) || (quota === 'deploymentsInFlight' && !SAGA_STATUSES.has(record.status))
      : // No record: a request may still be creating it, unless it took the slot long ago.
        now - new Date(slot.heldAt).getTime() > UNRECORDED_HOLDER_GRACE_MS;
    if (!stale) continue;
    await dependencies.quotas.releaseSlot(userId, quota, slot.slot, slot.holder);
    freed += 1;
  }
  return freed;
}

/** `2026-12-02T04:31`: the calendar minute (UTC) starts are counted in. */
export function minuteOf(date: Date): string {
  return date.toISOString().slice(0, 16);
}
