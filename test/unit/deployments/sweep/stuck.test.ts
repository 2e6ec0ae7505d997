/**
 * The sweep's stuck phase: a record left in a saga step past the step's deadline whose execution
 * no longer runs is cleaned up (sandbox killed) and FAILED "stuck in <step>".
 */
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../../../functions/shared/deployments/sweep/run-sweep.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { watchTerminalMeansGone } from '../../../support/fakes/terminal-means-gone.ts';
import { inFlight } from './sweep-scenarios.ts';

describe('the stuck phase', () => {
  it('fails a record past its step deadline whose execution has ended, after killing its sandbox', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await inFlight(ports, 'STARTING', 'FAILED');
    ports.clock.advanceSeconds(901);
    const watch = watchTerminalMeansGone(ports);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.stuck).toEqual({ examined: 1, killed: 1, marked: 1, errors: 0 });
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({
      status: 'FAILED',
      error: { step: 'start', name: 'DeploymentStuckError', message: 'stuck in start' },
    });
    expect(sandbox!.alive).toBe(false);
    expect(watch.violations()).toEqual([]);
  });

  it('leaves a record past its deadline while its execution still runs', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await inFlight(ports, 'STARTING', 'RUNNING');
    ports.clock.advanceSeconds(901);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.stuck).toMatchObject({ examined: 1, marked: 0 });
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('STARTING');
    expect(sandbox!.alive).toBe(true);
  });

  it('fails a record whose saga was never started (the submit died before the start)', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await inFlight(ports, 'PENDING', 'none');
    ports.clock.advanceSeconds(121);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'FAILED', error: { step: 'create', message: 'stuck in create' } });
  });

  it('leaves a record whose step is within its deadline', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await inFlight(ports, 'UPLOADING', 'FAILED');
    ports.clock.advanceSeconds(1_199);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.stuck.examined).toBe(0);
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('UPLOADING');
  });

  it('fails a health check past its health deadline and grace whose execution has ended', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await inFlight(ports, 'CHECKING_HEALTH', 'TIMED_OUT');
    // The health deadline is 60 s after the start; the grace 120 s more; the step's own limit 300 s.
    ports.clock.advanceSeconds(181);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'FAILED', error: { step: 'health' } });
  });

  // Bug (issue 11, "Stuck records"): a record whose execution no longer exists waits for its
  // step's deadline (15 min for STARTING) instead of being failed at once.
  it.fails('fails an in-flight record at once when its execution no longer exists', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await inFlight(ports, 'STARTING', 'NOT_FOUND');
    ports.clock.advanceSeconds(300);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('FAILED');
    expect(sandbox!.alive).toBe(false);
  });
});
