/**
 * The redeploy hand-over (submitDeployment with a live sandbox to reuse) when the submit dies at
 * each point: the API Lambda that runs it is killed (a timeout, a crash) and never runs another
 * line, so its catch does not run either. What happens next is what the system does on its own
 * (the sweep, once the new record is past the in-flight grace) or what the caller does (DELETE
 * the new deployment it was given).
 *
 * The commit point is `ownership.handOver`, the last write before the saga starts:
 * - before it, the sandbox and its app stay the previous deployment's: whoever ends the new
 *   record (the sweep, a DELETE, the submit's own catch) leaves them running;
 * - from it on, the sandbox is the new deployment's: ending the new deployment ends it, and the
 *   previous record ends TERMINATED (replaced) or, if the submit died before writing that, LOST.
 * Either way no leak is left once the sweep has run, and the quota usage is what is live.
 */
import { describe, expect, it } from 'vitest';
import { isTerminal, IN_FLIGHT_STATUSES } from '../../../../functions/shared/deployments/deployment-status.ts';
import { quotaUsage } from '../../../../functions/shared/deployments/quotas/deployment-quotas.ts';
import { submitDeployment } from '../../../../functions/shared/deployments/requests/submit-deployment.ts';
import { terminateDeployment } from '../../../../functions/shared/deployments/requests/terminate-deployment.ts';
import { runSweep } from '../../../../functions/shared/deployments/sweep/run-sweep.ts';
import { deploymentIn, deploymentRequest, type BuiltDeployment } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts, type FakePorts } from '../../../support/fakes/fake-ports.ts';
import { runSagaSteps } from '../../../support/fakes/run-saga-steps.ts';

const REDEPLOY_ID = 'redeploy-1';

/** Where the submit dies, as a call that never returns. */
const CRASH_POINTS = {
  'after the record': (ports: FakePorts) => ports.staging.control.hangNext('putManifest', 'before'),
  'after staging, before the hand-over': (ports: FakePorts) => ports.ownership.control.hangNext('handOver', 'before'),
  'at the hand-over, once it took effect': (ports: FakePorts) => ports.ownership.control.hangNext('handOver', 'after'),
  'after its live-sandbox slot moved': (ports: FakePorts) => ports.quotas.control.hangNext('transferSlot', 'after'),
  'after the previous deployment ended': (ports: FakePorts) => ports.deployments.control.hangNext('transition', 'after'),
  'before the workflow start': (ports: FakePorts) => ports.workflows.control.hangNext('start', 'before'),
} as const;
type CrashPoint = keyof typeof CRASH_POINTS;
const BEFORE_THE_HAND_OVER: CrashPoint[] = ['after the record', 'after staging, before the hand-over'];
const AFTER_THE_HAND_OVER: CrashPoint[] = ['at the hand-over, once it took effect', 'after its live-sandbox slot moved', 'after the previous deployment ended', 'before the workflow start'];

function redeploy(ports: FakePorts, previous: BuiltDeployment): Promise<unknown> {
  return submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ sandboxId: previous.sandbox!.sandboxId }), deploymentId: REDEPLOY_ID });
}

/** A RUNNING deployment, and a redeploy into its sandbox that dies at `point`. */
async function crashedRedeploy(point: CrashPoint): Promise<{ ports: FakePorts; previous: BuiltDeployment }> {
  const ports = createFakePorts();
  const previous = await deploymentIn(ports, 'RUNNING');
  const crashed = CRASH_POINTS[point](ports);
  void redeploy(ports, previous);
  // The submit has gone as far as it will.
  await crashed;
  return { ports, previous };
}

/** The sweep, once the new record is past every grace and deadline that concerns it. */
async function sweepLater(ports: FakePorts) {
  ports.clock.advanceSeconds(15 * 60);
  return runSweep(ports.dependencies);
}

/** What the no-leak invariant says of the fakes: sandboxes without an active record, records without a sandbox, records stuck. */
function leaks(ports: FakePorts): string[] {
  const records = ports.deployments.all();
  const active = records.filter((record) => !isTerminal(record.status) && record.sandboxId);
  const live = ports.sandboxes.live().map((sandbox) => sandbox.sandboxId);
  return [
    ...live.filter((sandboxId) => !active.some((record) => record.sandboxId === sandboxId)).map((sandboxId) => `sandbox ${sandboxId} has no active record`),
    ...active.filter((record) => record.status === 'RUNNING' && !live.includes(record.sandboxId!)).map((record) => `${record.deploymentId} is RUNNING without a live sandbox`),
    ...records.filter((record) => IN_FLIGHT_STATUSES.has(record.status)).map((record) => `${record.deploymentId} is still ${record.status}`),
  ];
}

async function expectPreviousAppRunning(ports: FakePorts, previous: BuiltDeployment): Promise<void> {
  expect(previous.sandbox!.alive, 'the sandbox of the app it was to replace is alive').toBe(true);
  expect(previous.app!.running, 'the app it was to replace still runs').toBe(true);
  expect((await ports.deployments.get(previous.deployment.deploymentId))?.status).toBe('RUNNING');
  expect(await ports.ownership.ownerOf(previous.sandbox!.sandboxId)).toBe(previous.deployment.deploymentId);
}

/** What the user holds once stale slots are reclaimed: only what is live. */
async function usage(ports: FakePorts) {
  return quotaUsage(ports.dependencies, 'user-1');
}

describe('a redeploy whose submit dies before the hand-over', () => {
  describe.each(BEFORE_THE_HAND_OVER)('%s', (point) => {
    it('leaves no leak once the sweep has run', async () => {
      // Prepare
      const { ports } = await crashedRedeploy(point);

      // Act
      await sweepLater(ports);

      // Assert
      expect(leaks(ports)).toEqual([]);
    });

    it('keeps the app it was to replace running through the sweep', async () => {
      // Prepare
      const { ports, previous } = await crashedRedeploy(point);

      // Act
      await sweepLater(ports);

      // Assert
      await expectPreviousAppRunning(ports, previous);
    });

    it('keeps the app it was to replace running when the caller deletes the new deployment', async () => {
      // Prepare
      const { ports, previous } = await crashedRedeploy(point);

      // Act
      await terminateDeployment(ports.dependencies, 'user-1', REDEPLOY_ID);

      // Assert
      await expectPreviousAppRunning(ports, previous);
      expect((await ports.deployments.get(REDEPLOY_ID))?.status).toBe('TERMINATED');
    });

    it('ends the new deployment FAILED in the sweep, and the quota held is the previous deployment’s sandbox alone', async () => {
      // Prepare
      const { ports } = await crashedRedeploy(point);

      // Act
      const report = await sweepLater(ports);

      // Assert
      expect(await ports.deployments.get(REDEPLOY_ID)).toMatchObject({ status: 'FAILED', error: { name: 'DeploymentStuckError', message: 'stuck in create: no execution runs it' } });
      expect(report.phases.stuck).toMatchObject({ marked: 1, killed: 0 });
      expect(await usage(ports)).toMatchObject({ liveSandboxes: 1, deploymentsInFlight: 0 });
    });
  });
});

describe('a redeploy whose submit dies after the hand-over', () => {
  describe.each(AFTER_THE_HAND_OVER)('%s', (point) => {
    it('leaves no leak once the sweep has run', async () => {
      // Prepare
      const { ports } = await crashedRedeploy(point);

      // Act
      await sweepLater(ports);

      // Assert
      expect(leaks(ports)).toEqual([]);
      expect(await usage(ports)).toEqual({ liveSandboxes: 0, deploymentsInFlight: 0, deploymentsPerMinute: 0 });
    });

    it('leaves the sandbox to the new deployment: the sweep fails it and ends the sandbox it took over', async () => {
      // Prepare
      const { ports, previous } = await crashedRedeploy(point);
      const ownerBeforeTheSweep = await ports.ownership.ownerOf(previous.sandbox!.sandboxId);

      // Act
      const report = await sweepLater(ports);

      // Assert
      expect(ownerBeforeTheSweep).toBe(REDEPLOY_ID);
      expect(await ports.deployments.get(REDEPLOY_ID)).toMatchObject({ status: 'FAILED', error: { name: 'DeploymentStuckError' } });
      expect(report.phases.stuck).toMatchObject({ marked: 1, killed: 1 });
      expect(previous.sandbox!.alive).toBe(false);
      // Replaced if the submit got as far as saying so; else the sweep finds its sandbox gone.
      expect(['TERMINATED', 'LOST']).toContain((await ports.deployments.get(previous.deployment.deploymentId))?.status);
    });

    it('ends the sandbox it took over when the caller deletes the new deployment', async () => {
      // Prepare
      const { ports, previous } = await crashedRedeploy(point);

      // Act
      const deleted = await terminateDeployment(ports.dependencies, 'user-1', REDEPLOY_ID);

      // Assert
      expect(deleted.status).toBe('TERMINATED');
      expect(previous.sandbox!.alive).toBe(false);
    });
  });

  it('names the previous deployment replaced once the submit got as far as ending it', async () => {
    // Prepare
    const { ports, previous } = await crashedRedeploy('after the previous deployment ended');

    // Act
    const record = await ports.deployments.get(previous.deployment.deploymentId);

    // Assert
    expect(record).toMatchObject({ status: 'TERMINATED', replacedBy: REDEPLOY_ID });
  });

  it('marks the previous deployment LOST when the submit died before ending it and its sandbox went with the new one', async () => {
    // Prepare
    const { ports, previous } = await crashedRedeploy('at the hand-over, once it took effect');

    // Act
    const report = await sweepLater(ports);

    // Assert
    expect(report.phases.lost.marked).toBe(1);
    expect(await ports.deployments.get(previous.deployment.deploymentId)).toMatchObject({ status: 'LOST', error: { name: 'SandboxLostError' } });
  });
});

describe('a redeploy whose submit dies during the workflow start (the saga started, its ARN never recorded)', () => {
  async function startedButUnrecorded() {
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const crashed = ports.workflows.control.hangNext('start', 'after');
    void redeploy(ports, previous);
    await crashed;
    return { ports, previous };
  }

  it('completes the redeploy: the saga replaces the old app in the same sandbox and the new deployment runs', async () => {
    // Prepare
    const { ports, previous } = await startedButUnrecorded();
    ports.sandboxes.onStart('node server.js', (app) => app.listen(3000, () => new Response('v2')));

    // Act
    const redeployed = await runSagaSteps(ports, REDEPLOY_ID);
    await sweepLater(ports);

    // Assert
    expect(redeployed).toMatchObject({ status: 'RUNNING', sandboxId: previous.sandbox!.sandboxId });
    expect(previous.app!.running).toBe(false);
    expect(previous.sandbox!.alive).toBe(true);
    expect((await ports.deployments.get(REDEPLOY_ID))?.status).toBe('RUNNING');
    expect(await ports.deployments.get(previous.deployment.deploymentId)).toMatchObject({ status: 'TERMINATED', replacedBy: REDEPLOY_ID });
    expect(leaks(ports)).toEqual([]);
    expect(await usage(ports)).toMatchObject({ liveSandboxes: 1, deploymentsInFlight: 0 });
  });
});

describe('a redeploy whose submit fails (its catch runs)', () => {
  it('before the hand-over: fails the new deployment and leaves the previous app running', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    ports.staging.control.failNext('putBatch', 1, new Error('S3 is down'));

    // Act
    await redeploy(ports, previous).catch(() => undefined);

    // Assert
    expect((await ports.deployments.get(REDEPLOY_ID))?.status).toBe('FAILED');
    await expectPreviousAppRunning(ports, previous);
    expect(await usage(ports)).toMatchObject({ liveSandboxes: 1, deploymentsInFlight: 0 });
  });

  it('before the hand-over: a DELETE of the failed new deployment leaves the previous app running', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    ports.staging.control.failNext('putBatch', 1, new Error('S3 is down'));
    await redeploy(ports, previous).catch(() => undefined);

    // Act
    await terminateDeployment(ports.dependencies, 'user-1', REDEPLOY_ID);

    // Assert
    await expectPreviousAppRunning(ports, previous);
  });

  it('when another redeploy took the sandbox over first: refuses with 409 and leaves the sandbox to that one', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    ports.staging.control.before('putManifest', async () => {
      await ports.ownership.handOver(previous.sandbox!.sandboxId, previous.deployment.deploymentId, 'the-other-redeploy');
    });

    // Act
    const attempt = redeploy(ports, previous);

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxNotReusableError', statusCode: 409 });
    expect((await ports.deployments.get(REDEPLOY_ID))?.status).toBe('FAILED');
    expect(await ports.ownership.ownerOf(previous.sandbox!.sandboxId)).toBe('the-other-redeploy');
    expect(previous.sandbox!.alive).toBe(true);
    expect(previous.app!.running).toBe(true);
  });

  // Not what the earlier it.fails asked for, by design: from the hand-over on the sandbox is the
  // new deployment's, so the catch ends it with the new deployment, though the new app never
  // started and the previous one is already TERMINATED (replaced). See the report.
  it('after the hand-over: a workflow start that fails ends the sandbox it took over with the new deployment', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    ports.workflows.control.failNext('start', 1, Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const attempt = redeploy(ports, previous);

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect(await ports.deployments.get(REDEPLOY_ID)).toMatchObject({ status: 'FAILED', error: { step: 'submit', name: 'ThrottlingException' } });
    expect(await ports.deployments.get(previous.deployment.deploymentId)).toMatchObject({ status: 'TERMINATED', replacedBy: REDEPLOY_ID });
    expect(previous.sandbox!.alive).toBe(false);
  });

  it('after the hand-over: a workflow start that fails leaves no leak and no quota held', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    ports.workflows.control.failNext('start', 1, Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    await redeploy(ports, previous).catch(() => undefined);
    await sweepLater(ports);

    // Assert
    expect(leaks(ports)).toEqual([]);
    expect(ports.quotas.held('user-1')).toEqual([]);
  });
});
