/**
 * The sweep's bounds: a time budget and an item limit per phase (the run says it was truncated,
 * and the next run carries on), and the lost phase's page cursor across runs.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runSweep } from '../../../../functions/shared/deployments/sweep/run-sweep.ts';
import { deploymentIn } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { expiredDeployments } from './sweep-scenarios.ts';

afterEach(() => {
  vi.useRealTimers();
});

async function statuses(ports: ReturnType<typeof createFakePorts>, ids: string[]): Promise<string[]> {
  return Promise.all(ids.map(async (id) => (await ports.deployments.get(id))!.status));
}

describe('the time budget', () => {
  it('starts no work with no budget left, and says the run was truncated', async () => {
    // Prepare
    const ports = createFakePorts();
    const expired = await expiredDeployments(ports, 2);

    // Act
    const report = await runSweep(ports.dependencies, { budgetMs: 0 });

    // Assert
    expect(report.truncated).toBe(true);
    expect(report.totals.examined).toBe(0);
    expect(expired.every((built) => built.sandbox!.alive)).toBe(true);
  });

  it('stops starting new work once the budget is spent, and the next run carries on', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    const ports = createFakePorts();
    const expired = await expiredDeployments(ports, 5);
    const ids = expired.map((built) => built.deployment.deploymentId);
    // Each kill takes 20 s of the run's 45 s budget.
    ports.sandboxes.control.before('kill', () => void vi.setSystemTime(Date.now() + 20_000), Infinity);

    // Act
    const first = await runSweep(ports.dependencies, { budgetMs: 45_000 });
    const afterFirst = await statuses(ports, ids);
    const second = await runSweep(ports.dependencies, { budgetMs: 45_000 });

    // Assert
    expect(first).toMatchObject({ truncated: true, phases: { expired: { examined: 3, marked: 3 } } });
    expect(afterFirst).toEqual(['EXPIRED', 'EXPIRED', 'EXPIRED', 'RUNNING', 'RUNNING']);
    expect(second).toMatchObject({ truncated: false, phases: { expired: { examined: 2, marked: 2 } } });
    expect(await statuses(ports, ids)).toEqual(Array(5).fill('EXPIRED'));
  });
});

describe('the item limit per phase', () => {
  it('examines at most the limit per phase and run, soonest expiry first, and the next run carries on', async () => {
    // Prepare
    const ports = createFakePorts();
    const expired = await expiredDeployments(ports, 5);
    const ids = expired.map((built) => built.deployment.deploymentId);

    // Act
    const first = await runSweep(ports.dependencies, { maxItemsPerPhase: 2 });
    const afterFirst = await statuses(ports, ids);
    await runSweep(ports.dependencies, { maxItemsPerPhase: 2 });
    const afterSecond = await statuses(ports, ids);
    const third = await runSweep(ports.dependencies, { maxItemsPerPhase: 2 });

    // Assert
    expect(first).toMatchObject({ truncated: true, phases: { expired: { examined: 2 } } });
    expect(afterFirst).toEqual(['EXPIRED', 'EXPIRED', 'RUNNING', 'RUNNING', 'RUNNING']);
    expect(afterSecond).toEqual(['EXPIRED', 'EXPIRED', 'EXPIRED', 'EXPIRED', 'RUNNING']);
    expect(third.truncated).toBe(false);
    expect(await statuses(ports, ids)).toEqual(Array(5).fill('EXPIRED'));
  });
});

describe("the lost phase's page cursor", () => {
  async function lostDeployments(count: number) {
    const ports = createFakePorts();
    const ids: string[] = [];
    for (let index = 0; index < count; index++) {
      const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
      sandbox!.end();
      ids.push(deployment.deploymentId);
      ports.clock.advanceSeconds(1);
    }
    return { ports, ids };
  }

  it('keeps where a truncated run stopped, and the next run goes on from there', async () => {
    // Prepare
    const { ports, ids } = await lostDeployments(3);
    const bounds = { pageSize: 1, maxItemsPerPhase: 1 };

    // Act
    await runSweep(ports.dependencies, bounds);
    const afterFirst = await statuses(ports, ids);
    const cursorAfterFirst = await ports.bookkeeping.getCursor('lost');
    await runSweep(ports.dependencies, bounds);
    const afterSecond = await statuses(ports, ids);

    // Assert
    expect(afterFirst).toEqual(['LOST', 'RUNNING', 'RUNNING']);
    expect(cursorAfterFirst).toEqual(expect.any(String));
    expect(afterSecond).toEqual(['LOST', 'LOST', 'RUNNING']);
    expect(ports.journal.calls('deployments.listActiveExpiringBefore', (args) => (args[1] as { nextToken?: string }).nextToken === cursorAfterFirst).length).toBeGreaterThan(0);
  });

  it('clears the cursor once a run has read every page', async () => {
    // Prepare
    const { ports, ids } = await lostDeployments(3);
    const bounds = { pageSize: 1, maxItemsPerPhase: 1 };

    // Act
    for (let run = 0; run < 3; run++) await runSweep(ports.dependencies, bounds);

    // Assert
    expect(await statuses(ports, ids)).toEqual(['LOST', 'LOST', 'LOST']);
    expect(await ports.bookkeeping.getCursor('lost')).toBeUndefined();
  });
});
