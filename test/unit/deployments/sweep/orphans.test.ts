/** The sweep's orphan phase: sandboxes of ours that no active record owns are killed. */
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../../../functions/shared/deployments/sweep/run-sweep.ts';
import { deploymentIn } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { ourSandbox } from './sweep-scenarios.ts';

const PAST_GRACE_SECONDS = 121;

describe('the orphan phase', () => {
  it('kills a sandbox whose record is terminal', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'UPLOADING');
    await ports.deployments.transition(deployment.deploymentId, 'FAILED');
    ports.clock.advanceSeconds(PAST_GRACE_SECONDS);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.orphans).toMatchObject({ examined: 1, killed: 1 });
    expect(sandbox!.alive).toBe(false);
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

  it('spares the sandbox a redeploy took over, following the replacement to its running owner', async () => {
    // Prepare
    const ports = createFakePorts();
    const first = await deploymentIn(ports, 'RUNNING');
    const redeploy = await deploymentIn(ports, 'RUNNING');
    // The first deployment's sandbox went to the redeploy; its own stays with it.
    redeploy.sandbox!.end();
    await ports.deployments.transitionFrom(first.deployment.deploymentId, first.deployment, 'TERMINATED', { replacedBy: redeploy.deployment.deploymentId });
    await ports.deployments.update(redeploy.deployment.deploymentId, { sandboxId: first.sandbox!.sandboxId });
    ports.clock.advanceSeconds(PAST_GRACE_SECONDS);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(first.sandbox!.alive).toBe(true);
    expect(report.phases.orphans.killed).toBe(0);
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
