/** The sweep's orphan phase: sandboxes of ours that no active record owns are killed. */
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../../../functions/shared/deployments/sweep/run-sweep.ts';
import { endDeployment } from '../../../../functions/shared/deployments/ending/end-deployment.ts';
import { deploymentIn, redeployInto } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { runSagaSteps } from '../../../support/fakes/run-saga-steps.ts';
import { ourSandbox } from './sweep-scenarios.ts';

const PAST_GRACE_SECONDS = 121;

describe('the orphan phase', () => {
  it('kills a sandbox whose record is terminal (its create step finished after the ending)', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CREATING');
    await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });
    const late = ourSandbox(ports, deployment.deploymentId);
    ports.clock.advanceSeconds(PAST_GRACE_SECONDS);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.orphans).toMatchObject({ examined: 1, killed: 1 });
    expect(late.alive).toBe(false);
  });

  it('kills a sandbox whose deployment has no record', async () => {
    // Prepare
    const ports = createFakePorts();
    const stray = ourSandbox(ports, 'never-recorded');
    ports.clock.advanceSeconds(PAST_GRACE_SECONDS);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(stray.alive).toBe(false);
  });

  it('kills a second sandbox of a deployment whose record names another', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
    const second = ourSandbox(ports, deployment.deploymentId);
    ports.clock.advanceSeconds(PAST_GRACE_SECONDS);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(second.alive).toBe(false);
    expect(sandbox!.alive).toBe(true);
  });

  it('spares a sandbox younger than the grace period: its record may be on its way', async () => {
    // Prepare
    const ports = createFakePorts();
    const young = ourSandbox(ports, 'being-created');
    ports.clock.advanceSeconds(PAST_GRACE_SECONDS - 2);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(young.alive).toBe(true);
  });

  it('spares the sandbox a redeploy took over, following its owner to the running redeploy', async () => {
    // Prepare
    const ports = createFakePorts();
    const first = await deploymentIn(ports, 'RUNNING');
    const redeploy = await redeployInto(ports, first);
    ports.sandboxes.onStart('node server.js', (app) => app.listen(3000, () => new Response('v2')));
    await runSagaSteps(ports, redeploy.deploymentId);
    ports.clock.advanceSeconds(PAST_GRACE_SECONDS);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(first.sandbox!.alive).toBe(true);
    expect(report.phases.orphans.killed).toBe(0);
  });

  it('spares the sandbox handed to a redeploy that has not taken it over yet', async () => {
    // Prepare
    const ports = createFakePorts();
    const first = await deploymentIn(ports, 'RUNNING');
    await redeployInto(ports, first);
    ports.clock.advanceSeconds(PAST_GRACE_SECONDS);

    // Act
    await runSweep(ports.dependencies, { inFlightGraceSeconds: 3600 });

    // Assert
    expect(first.sandbox!.alive).toBe(true);
  });

  it('spares a sandbox without an ownership item whose creator still runs with it', async () => {
    // Prepare
    const ports = createFakePorts();
    const { sandbox } = await deploymentIn(ports, 'RUNNING', { recordOwner: false });
    ports.clock.advanceSeconds(PAST_GRACE_SECONDS);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(sandbox!.alive).toBe(true);
  });

  it('goes by the owner, not the creator: kills a sandbox whose owner has no record though its creator is RUNNING, and the next run finds the creator LOST', async () => {
    // Prepare: the sandbox was handed to a deployment that has no record
    const ports = createFakePorts();
    const first = await deploymentIn(ports, 'RUNNING');
    await ports.ownership.handOver(first.sandbox!.sandboxId, first.deployment.deploymentId, 'the-redeploy');
    ports.clock.advanceSeconds(PAST_GRACE_SECONDS);

    // Act
    const report = await runSweep(ports.dependencies);
    const next = await runSweep(ports.dependencies);

    // Assert
    expect(first.sandbox!.alive).toBe(false);
    expect(report.phases.orphans.killed).toBe(1);
    // The run's one provider listing still showed the sandbox to its lost phase.
    expect(report.phases.lost.marked).toBe(0);
    expect(next.phases.lost.marked).toBe(1);
    expect((await ports.deployments.get(first.deployment.deploymentId))?.status).toBe('LOST');
  });

  it('never touches a sandbox that CodeRunner does not manage', async () => {
    // Prepare
    const ports = createFakePorts();
    const foreign = ports.sandboxes.seed({ metadata: { userId: 'u', projectId: 'p', deploymentId: 'none', managedBy: 'someone-else' } });
    ports.clock.advanceSeconds(PAST_GRACE_SECONDS);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(foreign.alive).toBe(true);
  });
});
