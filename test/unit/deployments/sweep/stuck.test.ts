/**
 * The sweep's stuck phase: a record in flight whose execution is not running (it ended, or never
 * existed) is failed once past the in-flight grace, no step deadline waited; one whose execution
 * still runs is failed only past its step's own deadline. Either way its sandbox is killed first
 * and the record FAILED "stuck in <step>: <why>". (A record left STOPPING by a crashed ender is
 * finished as its ender said: end-deployment-stopping.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../../../functions/shared/deployments/sweep/run-sweep.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { watchTerminalMeansGone } from '../../../support/fakes/terminal-means-gone.ts';
import { inFlight } from './sweep-scenarios.ts';

const PAST_IN_FLIGHT_GRACE_SECONDS = 61;

describe('the stuck phase', () => {
  it.each([
    ['FAILED', 'its execution failed'],
    ['TIMED_OUT', 'its execution timed out'],
  ] as const)('fails a record whose execution %s once past the in-flight grace, after killing its sandbox', async (execution, why) => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await inFlight(ports, 'STARTING', execution);
    ports.clock.advanceSeconds(PAST_IN_FLIGHT_GRACE_SECONDS);
    const watch = watchTerminalMeansGone(ports);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.stuck).toEqual({ examined: 1, killed: 1, marked: 1, errors: 0 });
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({
      status: 'FAILED',
      error: { step: 'start', name: 'DeploymentStuckError', message: `stuck in start: ${why}` },
    });
    expect(sandbox!.alive).toBe(false);
    expect(watch.violations()).toEqual([]);
  });

  it('fails an in-flight record at once when its execution no longer exists', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await inFlight(ports, 'STARTING', 'NOT_FOUND');
    ports.clock.advanceSeconds(PAST_IN_FLIGHT_GRACE_SECONDS);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'FAILED', error: { message: 'stuck in start: no execution runs it' } });
    expect(sandbox!.alive).toBe(false);
  });

  it('fails a record whose saga was never started (the submit died before the start)', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await inFlight(ports, 'PENDING', 'none');
    ports.clock.advanceSeconds(PAST_IN_FLIGHT_GRACE_SECONDS);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'FAILED', error: { step: 'create', message: 'stuck in create: no execution runs it' } });
  });

  it('leaves a record within the in-flight grace: the API may be about to start its execution', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await inFlight(ports, 'PENDING', 'none');
    ports.clock.advanceSeconds(PAST_IN_FLIGHT_GRACE_SECONDS - 2);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.stuck.examined).toBe(0);
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('PENDING');
  });

  it('leaves a record whose execution still runs, within its step deadline', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await inFlight(ports, 'STARTING', 'RUNNING');
    ports.clock.advanceSeconds(899);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.stuck).toMatchObject({ examined: 1, marked: 0 });
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('STARTING');
    expect(sandbox!.alive).toBe(true);
  });

  it('fails a record whose execution still runs once past its step deadline', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await inFlight(ports, 'STARTING', 'RUNNING');
    ports.clock.advanceSeconds(901);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'FAILED', error: { message: 'stuck in start: past its deadline' } });
    expect(sandbox!.alive).toBe(false);
  });

  it('fails a health check past its health deadline and grace while its execution still runs', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await inFlight(ports, 'CHECKING_HEALTH', 'RUNNING');
    // The health deadline is 60 s after the start; the grace 120 s more; the step's own limit 300 s.
    ports.clock.advanceSeconds(181);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'FAILED', error: { step: 'health', message: 'stuck in health: past its deadline' } });
  });

  it('gives the quota of a stuck deployment back', async () => {
    // Prepare
    const ports = createFakePorts();
    await inFlight(ports, 'UPLOADING', 'FAILED');
    ports.clock.advanceSeconds(PAST_IN_FLIGHT_GRACE_SECONDS);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(ports.quotas.held('user-1')).toEqual([]);
  });

  it('leaves the record alone when the saga moved it on after the sweep read it', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await inFlight(ports, 'STARTING', 'FAILED');
    ports.clock.advanceSeconds(PAST_IN_FLIGHT_GRACE_SECONDS);
    ports.workflows.control.after('status', async () => {
      // A redriven execution records its step meanwhile.
      await ports.deployments.transition(deployment.deploymentId, 'CHECKING_HEALTH', { appPid: 1, healthDeadline: ports.clock.inSeconds(60) });
    });

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.stuck).toMatchObject({ examined: 1, marked: 0, killed: 0 });
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('CHECKING_HEALTH');
    expect(sandbox!.alive).toBe(true);
  });
});
