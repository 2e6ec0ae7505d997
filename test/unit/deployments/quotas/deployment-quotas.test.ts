/**
 * Taking and giving back a deployment's quota (deployment-quotas.ts) against the fake quota store
 * and repository: a slot of deployments in flight and one of live sandboxes per new deployment,
 * one start counted per minute, exactly the limit under parallel requests, stale slots reclaimed
 * so that usage is what is live, the messages a 429 carries, and the lifetime bound.
 */
import { describe, expect, it } from 'vitest';
import { LifetimeOutOfBoundsError, QuotaExceededError } from '../../../../functions/shared/deployments/errors.ts';
import {
  latestEnd,
  minuteOf,
  quotaUsage,
  releaseQuotaSlots,
  reserveQuotas,
  takeOverLiveSlot,
  userLimits,
} from '../../../../functions/shared/deployments/quotas/deployment-quotas.ts';
import { DEFAULT_QUOTA_LIMITS, type QuotaLimits } from '../../../../functions/shared/deployments/quotas/quota-limits.ts';
import { endDeployment } from '../../../../functions/shared/deployments/ending/end-deployment.ts';
import { deploymentIn } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts, type FakePorts } from '../../../support/fakes/fake-ports.ts';

const LIMITS: QuotaLimits = { liveSandboxes: 2, deploymentsInFlight: 2, deploymentsPerMinute: 5, maxSandboxLifetimeSeconds: 3600 };

function reserve(ports: FakePorts, deploymentId: string, overrides: Partial<Parameters<typeof reserveQuotas>[1]> = {}) {
  return reserveQuotas(ports.dependencies, { userId: 'user-1', deploymentId, limits: LIMITS, timeoutSeconds: 600, redeploy: false, ...overrides });
}

function heldBy(ports: FakePorts): string[] {
  return ports.quotas.held('user-1').map((slot) => `${slot.quota} ${slot.holder}`);
}

/** The error a promise rejects with. */
async function refusal(attempt: Promise<unknown>): Promise<QuotaExceededError> {
  const error = await attempt.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(QuotaExceededError);
  return error as QuotaExceededError;
}

describe('reserveQuotas', () => {
  it('takes a slot of deployments in flight and one of live sandboxes, and counts the start in this minute', async () => {
    // Prepare
    const ports = createFakePorts();

    // Act
    const slots = await reserve(ports, 'dep-1');

    // Assert
    expect(slots).toEqual({ deploymentsInFlight: 0, liveSandboxes: 0 });
    expect(heldBy(ports)).toEqual(['deploymentsInFlight dep-1', 'liveSandboxes dep-1']);
    expect(await ports.quotas.startsIn('user-1', minuteOf(ports.clock.now()))).toBe(1);
  });

  it('takes no live-sandbox slot for a redeploy: it takes over its predecessor’s', async () => {
    // Prepare
    const ports = createFakePorts();

    // Act
    const slots = await reserve(ports, 'dep-1', { redeploy: true });

    // Assert
    expect(slots).toEqual({ deploymentsInFlight: 0 });
    expect(heldBy(ports)).toEqual(['deploymentsInFlight dep-1']);
  });

  it('refuses a lifetime past the longest the user may have, naming the bound, and takes nothing', async () => {
    // Prepare
    const ports = createFakePorts();

    // Act
    const attempt = reserve(ports, 'dep-1', { timeoutSeconds: 3601 });

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(LifetimeOutOfBoundsError);
    await expect(attempt).rejects.toThrow('options.timeoutSeconds must be at most 3600 (your quota: longest sandbox lifetime)');
    expect(heldBy(ports)).toEqual([]);
    expect(await ports.quotas.startsIn('user-1', minuteOf(ports.clock.now()))).toBe(0);
  });

  it('refuses the deployment past the in-flight limit with a 429’s details, holding nothing for it', async () => {
    // Prepare: two deployments the saga works on
    const ports = createFakePorts();
    await deploymentIn(ports, 'UPLOADING');
    await deploymentIn(ports, 'STARTING');

    // Act
    const error = await refusal(reserve(ports, 'dep-3'));

    // Assert
    expect(error.message).toBe('quota reached: deployments in flight: 2 of 2 in use; retry when one of them is running or has ended');
    expect(error).toMatchObject({ name: 'QuotaExceededError', quota: 'deploymentsInFlight', used: 2, limit: 2, retryAfterSeconds: 15 });
    expect(heldBy(ports).filter((held) => held.endsWith('dep-3'))).toEqual([]);
  });

  it('refuses the deployment past the live-sandbox limit, and gives back the in-flight slot it took', async () => {
    // Prepare: two RUNNING deployments (no longer in flight)
    const ports = createFakePorts();
    await deploymentIn(ports, 'RUNNING');
    await deploymentIn(ports, 'RUNNING');

    // Act
    const error = await refusal(reserve(ports, 'dep-3'));

    // Assert
    expect(error.message).toBe(
      'quota reached: live sandboxes: 2 of 2 in use; end one (DELETE /deployments/{id}, or coderunner kill), or redeploy into one of them (reuse or sandboxId)',
    );
    expect(error).toMatchObject({ quota: 'liveSandboxes', used: 2, limit: 2, retryAfterSeconds: 60 });
    expect(heldBy(ports).filter((held) => held.endsWith('dep-3'))).toEqual([]);
  });

  it('lets a redeploy through at the live-sandbox limit', async () => {
    // Prepare
    const ports = createFakePorts();
    await deploymentIn(ports, 'RUNNING');
    await deploymentIn(ports, 'RUNNING');

    // Act
    const slots = await reserve(ports, 'redeploy', { redeploy: true });

    // Assert
    expect(slots).toEqual({ deploymentsInFlight: 0 });
  });

  it('refuses the start past the per-minute limit, saying when to retry, and gives both slots back', async () => {
    // Prepare
    const ports = createFakePorts({ start: '2030-01-01T00:00:20.000Z' });
    const minute = minuteOf(ports.clock.now());
    for (let start = 0; start < LIMITS.deploymentsPerMinute; start++) await ports.quotas.countStart('user-1', minute, LIMITS.deploymentsPerMinute);

    // Act
    const error = await refusal(reserve(ports, 'dep-1'));

    // Assert
    expect(error.message).toBe('quota reached: deployments started per minute: 5 of 5 this minute; retry in 40 s');
    expect(error).toMatchObject({ quota: 'deploymentsPerMinute', used: 5, limit: 5, retryAfterSeconds: 40 });
    expect(heldBy(ports)).toEqual([]);
  });

  it('counts starts per calendar minute: the next minute starts again from none', async () => {
    // Prepare
    const ports = createFakePorts({ start: '2030-01-01T00:00:50.000Z' });
    for (let index = 0; index < LIMITS.deploymentsPerMinute; index++) {
      const slots = await reserve(ports, `dep-${index}`);
      await releaseQuotaSlots(ports.dependencies, { userId: 'user-1', deploymentId: `dep-${index}`, quotaSlots: slots });
    }
    ports.clock.advanceSeconds(10);

    // Act
    const slots = await reserve(ports, 'next-minute');

    // Assert
    expect(slots.deploymentsInFlight).toBeDefined();
    expect(await ports.quotas.startsIn('user-1', '2030-01-01T00:01')).toBe(1);
  });

  it('accepts exactly the limit of many deployments submitted at once', async () => {
    // Prepare
    const ports = createFakePorts({ interleave: true });
    const limits = { ...LIMITS, liveSandboxes: 3, deploymentsInFlight: 10, deploymentsPerMinute: 10 };

    // Act
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, (_, index) => reserve(ports, `dep-${index}`, { limits })));

    // Assert
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(3);
    const refused = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    expect(refused.map((outcome) => (outcome.reason as QuotaExceededError).quota)).toEqual(Array(5).fill('liveSandboxes'));
    expect(ports.quotas.held('user-1', 'liveSandboxes')).toHaveLength(3);
    // The refused gave back the in-flight slots they took.
    expect(ports.quotas.held('user-1', 'deploymentsInFlight')).toHaveLength(3);
  });

  it('refuses every start of a user whose operator set 0 deployments per minute', async () => {
    // Prepare
    const ports = createFakePorts();
    ports.quotas.setLimits('user-1', { deploymentsPerMinute: 0 });
    const limits = await userLimits(ports.dependencies, 'user-1', DEFAULT_QUOTA_LIMITS);

    // Act
    const attempt = reserveQuotas(ports.dependencies, { userId: 'user-1', deploymentId: 'dep-1', limits, timeoutSeconds: 600, redeploy: false });

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'QuotaExceededError', quota: 'deploymentsPerMinute' });
  });
});

describe('reclaiming stale slots at the limit', () => {
  it('reclaims the live-sandbox slot of a deployment that ended without giving it back (a crash)', async () => {
    // Prepare: one live deployment, and one that ended but whose slots were never given back
    const ports = createFakePorts();
    await deploymentIn(ports, 'RUNNING');
    const crashed = await deploymentIn(ports, 'RUNNING');
    ports.quotas.control.failNext('releaseSlot', 2, new Error('the ender died'));
    await endDeployment(ports.dependencies, { deployment: crashed.deployment, to: 'TERMINATED' }).catch(() => undefined);
    expect(ports.quotas.held('user-1', 'liveSandboxes')).toHaveLength(2);

    // Act
    const slots = await reserve(ports, 'dep-3');

    // Assert
    expect(slots.liveSandboxes).toBe(crashed.deployment.quotaSlots!.liveSandboxes);
    expect(ports.quotas.held('user-1', 'liveSandboxes').map((slot) => slot.holder)).not.toContain(crashed.deployment.deploymentId);
  });

  it('reclaims the in-flight slot of a deployment that runs now (the health step died before giving it back)', async () => {
    // Prepare
    const ports = createFakePorts();
    const running = await deploymentIn(ports, 'RUNNING', { holdsQuota: false });
    await ports.quotas.takeSlot('user-1', 'deploymentsInFlight', LIMITS.deploymentsInFlight, running.deployment.deploymentId);
    await deploymentIn(ports, 'UPLOADING', { holdsQuota: false });
    await ports.quotas.takeSlot('user-1', 'deploymentsInFlight', LIMITS.deploymentsInFlight, 'in-flight');

    // Act
    const slots = await reserve(ports, 'dep-3');

    // Assert
    expect(slots.deploymentsInFlight).toBeDefined();
    expect(ports.quotas.held('user-1', 'deploymentsInFlight').map((slot) => slot.holder).sort()).toEqual(['dep-3', 'in-flight']);
  });

  it('keeps a slot whose holder has no record yet for a minute (a request still creating it), then reclaims it', async () => {
    // Prepare
    const ports = createFakePorts();
    await ports.quotas.takeSlot('user-1', 'liveSandboxes', 2, 'being-created');
    await ports.quotas.takeSlot('user-1', 'liveSandboxes', 2, 'another');
    ports.clock.advanceSeconds(59);

    // Act
    const early = await refusal(reserve(ports, 'dep-early'));
    ports.clock.advanceSeconds(2);
    const late = await reserve(ports, 'dep-late');

    // Assert
    expect(early.quota).toBe('liveSandboxes');
    expect(late.liveSandboxes).toBeDefined();
    expect(ports.quotas.held('user-1', 'liveSandboxes').map((slot) => slot.holder).sort()).toEqual(['dep-late']);
  });

  it('never reclaims the slot of a deployment that is live', async () => {
    // Prepare
    const ports = createFakePorts();
    await deploymentIn(ports, 'RUNNING');
    await deploymentIn(ports, 'CHECKING_HEALTH');

    // Act
    const error = await refusal(reserve(ports, 'dep-3'));

    // Assert
    expect(error.quota).toBe('liveSandboxes');
    expect(ports.quotas.held('user-1', 'liveSandboxes')).toHaveLength(2);
  });
});

describe('releaseQuotaSlots', () => {
  it('gives back the slots the deployment holds, idempotently', async () => {
    // Prepare
    const ports = createFakePorts();
    const quotaSlots = await reserve(ports, 'dep-1');
    const deployment = { userId: 'user-1', deploymentId: 'dep-1', quotaSlots };

    // Act
    await releaseQuotaSlots(ports.dependencies, deployment);
    await releaseQuotaSlots(ports.dependencies, deployment);

    // Assert
    expect(heldBy(ports)).toEqual([]);
  });

  it('gives back only the quotas named (the health step: deployments in flight)', async () => {
    // Prepare
    const ports = createFakePorts();
    const quotaSlots = await reserve(ports, 'dep-1');

    // Act
    await releaseQuotaSlots(ports.dependencies, { userId: 'user-1', deploymentId: 'dep-1', quotaSlots }, ['deploymentsInFlight']);

    // Assert
    expect(heldBy(ports)).toEqual(['liveSandboxes dep-1']);
  });

  it('leaves a slot that another deployment holds since (reclaimed and taken again)', async () => {
    // Prepare
    const ports = createFakePorts();
    const quotaSlots = await reserve(ports, 'dep-1');
    await ports.quotas.releaseSlot('user-1', 'liveSandboxes', quotaSlots.liveSandboxes!, 'dep-1');
    await ports.quotas.takeSlot('user-1', 'liveSandboxes', 1, 'dep-2');

    // Act
    await releaseQuotaSlots(ports.dependencies, { userId: 'user-1', deploymentId: 'dep-1', quotaSlots });

    // Assert
    expect(heldBy(ports)).toEqual(['liveSandboxes dep-2']);
  });
});

describe('takeOverLiveSlot', () => {
  it('moves the predecessor’s live-sandbox slot to the redeploy', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');

    // Act
    const slot = await takeOverLiveSlot(ports.dependencies, previous.deployment, 'redeploy');

    // Assert
    expect(slot).toBe(previous.deployment.quotaSlots!.liveSandboxes);
    expect(heldBy(ports)).toEqual(['liveSandboxes redeploy']);
  });

  it('answers none when the predecessor holds no slot any more (reclaimed, or moved to another redeploy)', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    await takeOverLiveSlot(ports.dependencies, previous.deployment, 'first-redeploy');

    // Act
    const slot = await takeOverLiveSlot(ports.dependencies, previous.deployment, 'second-redeploy');

    // Assert
    expect(slot).toBeUndefined();
    expect(heldBy(ports)).toEqual(['liveSandboxes first-redeploy']);
  });

  it('answers none for a predecessor that never held one', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING', { holdsQuota: false });

    // Act
    const slot = await takeOverLiveSlot(ports.dependencies, previous.deployment, 'redeploy');

    // Assert
    expect(slot).toBeUndefined();
    expect(ports.journal.calls('quotas.transferSlot')).toEqual([]);
  });
});

describe('quotaUsage', () => {
  it('counts what is live: stale slots are reclaimed first, and the starts of this minute', async () => {
    // Prepare
    const ports = createFakePorts();
    await deploymentIn(ports, 'RUNNING');
    await deploymentIn(ports, 'UPLOADING');
    const ended = await deploymentIn(ports, 'RUNNING');
    ports.quotas.control.failNext('releaseSlot', 2, new Error('the ender died'));
    await endDeployment(ports.dependencies, { deployment: ended.deployment, to: 'TERMINATED' }).catch(() => undefined);
    await ports.quotas.countStart('user-1', minuteOf(ports.clock.now()), 10);

    // Act
    const usage = await quotaUsage(ports.dependencies, 'user-1');

    // Assert
    expect(usage).toEqual({ liveSandboxes: 2, deploymentsInFlight: 1, deploymentsPerMinute: 1 });
  });
});

describe("a user's limits and the lifetime bound", () => {
  it("uses an operator's limits for the user over the defaults, ignoring values that are not counts", async () => {
    // Prepare
    const ports = createFakePorts();
    ports.quotas.setLimits('user-1', { liveSandboxes: 10, deploymentsInFlight: -1, deploymentsPerMinute: 2.5 });

    // Act
    const limits = await userLimits(ports.dependencies, 'user-1', DEFAULT_QUOTA_LIMITS);
    const others = await userLimits(ports.dependencies, 'user-2', DEFAULT_QUOTA_LIMITS);

    // Assert
    expect(limits).toEqual({ ...DEFAULT_QUOTA_LIMITS, liveSandboxes: 10 });
    expect(others).toEqual(DEFAULT_QUOTA_LIMITS);
  });

  it('lets a sandbox live until its creation plus the longest lifetime, whoever deploys into it', () => {
    // Prepare
    const deployment = { sandboxCreatedAt: '2030-01-01T00:00:00.000Z', createdAt: '2030-01-01T05:00:00.000Z' };

    // Act
    const latest = latestEnd(deployment, LIMITS);

    // Assert
    expect(latest.toISOString()).toBe('2030-01-01T01:00:00.000Z');
  });

  it('bounds by the deployment’s own creation when no sandbox creation was recorded', () => {
    // Act
    const latest = latestEnd({ createdAt: '2030-01-01T05:00:00.000Z' }, LIMITS);

    // Assert
    expect(latest.toISOString()).toBe('2030-01-01T06:00:00.000Z');
  });

  it('counts starts in the UTC calendar minute', () => {
    // Act
    const minute = minuteOf(new Date('2030-12-02T04:31:59.999Z'));

    // Assert
    expect(minute).toBe('2030-12-02T04:31');
  });
});
