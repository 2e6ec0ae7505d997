/**
 * The redeploy hand-over (submitDeployment with a live sandbox to reuse) when the submit dies at
 * each point: the API Lambda that runs it is killed (a timeout, a crash) and never runs another
 * line, so its catch does not run either. What happens next is what the system does on its own
 * (the sweep, once the new record is past its step deadline) or what the caller does (DELETE the
 * new deployment it was given).
 *
 * Two properties:
 * - no leak: afterwards every live sandbox is the sandbox of an active record, and no record is
 *   left in a saga step; this holds today and must keep holding;
 * - the app it was to replace survives a redeploy that never started its saga: the previous
 *   deployment stays RUNNING with its app. Today it does not: the new record carries the live
 *   sandbox's id from its creation, so whoever ends the new record (the sweep's stuck phase, a
 *   DELETE, the submit's own catch) kills the sandbox. Those tests are `it.fails` naming the bug
 *   of issue 11, "A crashed redeploy kills the app it was to replace"; flip them once it is fixed.
 */
import { describe, expect, it } from 'vitest';
import { isTerminal, IN_FLIGHT_STATUSES } from '../../../../functions/shared/deployments/deployment-status.ts';
import { submitDeployment } from '../../../../functions/shared/deployments/steps/submit-deployment.ts';
import { terminateDeployment } from '../../../../functions/shared/deployments/steps/terminate-deployment.ts';
import { runSweep } from '../../../../functions/shared/deployments/sweep/run-sweep.ts';
import { deploymentIn, deploymentRequest, type BuiltDeployment } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts, type FakePorts } from '../../../support/fakes/fake-ports.ts';
import { runSagaSteps } from '../../../support/fakes/run-saga-steps.ts';

const REDEPLOY_ID = 'redeploy-1';

/** Where the submit dies, as a call that never returns. */
const CRASH_POINTS = {
  'after the record': (ports: FakePorts) => ports.staging.control.hangNext('putManifest', 'before'),
  'after staging': (ports: FakePorts) => ports.deployments.control.hangNext('transitionFrom', 'before'),
  'after the hand-over': (ports: FakePorts) => ports.deployments.control.hangNext('transitionFrom', 'after'),
  'before the workflow start': (ports: FakePorts) => ports.workflows.control.hangNext('start', 'before'),
} as const;
type CrashPoint = keyof typeof CRASH_POINTS;
const BEFORE_THE_SAGA = Object.keys(CRASH_POINTS) as CrashPoint[];

/** A RUNNING deployment, and a redeploy into its sandbox that dies at `point`. */
async function crashedRedeploy(point: CrashPoint): Promise<{ ports: FakePorts; previous: BuiltDeployment }> {
  const ports = createFakePorts();
  const previous = await deploymentIn(ports, 'RUNNING');
  const crashed = CRASH_POINTS[point](ports);
  void submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ sandboxId: previous.sandbox!.sandboxId }), deploymentId: REDEPLOY_ID });
  // The submit has gone as far as it will.
  await crashed;
  return { ports, previous };
}

/** The sweep, once the new record is past every deadline that concerns it. */
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
}

describe('a redeploy whose submit dies before its saga starts', () => {
  describe.each(BEFORE_THE_SAGA)('%s', (point) => {
    it('leaves no leak once the sweep has run', async () => {
      // Prepare
      const { ports } = await crashedRedeploy(point);

      // Act
      await sweepLater(ports);

      // Assert
      expect(leaks(ports)).toEqual([]);
    });

    // Bug (issue 11, "A crashed redeploy kills the app it was to replace"): the sweep's stuck
    // phase fails the new record and ends "its" sandbox, which is the previous app's.
    it.fails('keeps the app it was to replace running through the sweep', async () => {
      // Prepare
      const { ports, previous } = await crashedRedeploy(point);

      // Act
      await sweepLater(ports);

      // Assert
      await expectPreviousAppRunning(ports, previous);
    });

    // Bug (issue 11, "A crashed redeploy kills the app it was to replace"): a DELETE of the new
    // id ends it with the sandbox it names, the previous app's.
    it.fails('keeps the app it was to replace running when the caller deletes the new deployment', async () => {
      // Prepare
      const { ports, previous } = await crashedRedeploy(point);

      // Act
      await terminateDeployment(ports.dependencies, 'user-1', REDEPLOY_ID);

      // Assert
      await expectPreviousAppRunning(ports, previous);
    });
  });

  it('ends the new deployment FAILED in the sweep', async () => {
    // Prepare
    const { ports } = await crashedRedeploy('after the record');

    // Act
    const report = await sweepLater(ports);

    // Assert
    expect(await ports.deployments.get(REDEPLOY_ID)).toMatchObject({ status: 'FAILED', error: { name: 'DeploymentStuckError' } });
    expect(report.phases.stuck.marked).toBe(1);
  });
});

describe('a redeploy whose submit dies during the workflow start (the saga started, its ARN never recorded)', () => {
  async function startedButUnrecorded() {
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const crashed = ports.workflows.control.hangNext('start', 'after');
    void submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ sandboxId: previous.sandbox!.sandboxId }), deploymentId: REDEPLOY_ID });
    await crashed;
    return { ports, previous };
  }

  it('completes the redeploy: the saga replaces the old app in the same sandbox and the new deployment runs', async () => {
    // Prepare
    const { ports, previous } = await startedButUnrecorded();
    ports.sandboxes.onStart('node server.js', (app) => app.listen(3000, () => new Response('v2')));

    // Act
    const redeploy = await runSagaSteps(ports, REDEPLOY_ID);
    await sweepLater(ports);

    // Assert
    expect(redeploy).toMatchObject({ status: 'RUNNING', sandboxId: previous.sandbox!.sandboxId });
    expect(previous.app!.running).toBe(false);
    expect(previous.sandbox!.alive).toBe(true);
    expect((await ports.deployments.get(REDEPLOY_ID))?.status).toBe('RUNNING');
    expect(leaks(ports)).toEqual([]);
  });
});

describe('a redeploy whose submit fails (its catch runs)', () => {
  it('before the hand-over: fails the new deployment and leaves the previous app running', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    ports.staging.control.failNext('putBatch', 1, new Error('S3 is down'));

    // Act
    await submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ sandboxId: previous.sandbox!.sandboxId }), deploymentId: REDEPLOY_ID }).catch(() => undefined);

    // Assert
    expect((await ports.deployments.get(REDEPLOY_ID))?.status).toBe('FAILED');
    await expectPreviousAppRunning(ports, previous);
  });

  // Bug (issue 11, "A crashed redeploy kills the app it was to replace"): the failed redeploy's
  // record still names the previous app's sandbox, and a DELETE of a terminal record that was
  // not replaced kills the sandbox it names.
  it.fails('before the hand-over: a DELETE of the failed new deployment leaves the previous app running', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    ports.staging.control.failNext('putBatch', 1, new Error('S3 is down'));
    await submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ sandboxId: previous.sandbox!.sandboxId }), deploymentId: REDEPLOY_ID }).catch(() => undefined);

    // Act
    await terminateDeployment(ports.dependencies, 'user-1', REDEPLOY_ID);

    // Assert
    await expectPreviousAppRunning(ports, previous);
  });

  // Bug (issue 11, "A crashed redeploy kills the app it was to replace"): once handed over, the
  // catch kills the sandbox it took over, with the previous app in it, though the new app never
  // started.
  it.fails('after the hand-over: a workflow start that fails leaves the previous app running', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    ports.workflows.control.failNext('start', 1, Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    await submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ sandboxId: previous.sandbox!.sandboxId }), deploymentId: REDEPLOY_ID }).catch(() => undefined);

    // Assert
    await expectPreviousAppRunning(ports, previous);
  });

  it('after the hand-over: a workflow start that fails leaves no leak', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    ports.workflows.control.failNext('start', 1, Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    await submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ sandboxId: previous.sandbox!.sandboxId }), deploymentId: REDEPLOY_ID }).catch(() => undefined);
    await sweepLater(ports);

    // Assert
    expect(leaks(ports)).toEqual([]);
  });
});
