/** The sweep's lost phase: a RUNNING record whose sandbox is gone at the provider is marked LOST. */
import { describe, expect, it } from 'vitest';
import type { SandboxSummary } from '../../../../functions/shared/sandbox/sandbox-provider.ts';
import { runSweep } from '../../../../functions/shared/deployments/sweep/run-sweep.ts';
import { deploymentIn } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';

describe('the lost phase', () => {
  it('marks a running deployment LOST when its sandbox is gone at the provider', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
    sandbox!.end();

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.lost).toMatchObject({ examined: 1, marked: 1 });
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({
      status: 'LOST',
      error: { step: 'sweep', name: 'SandboxLostError', message: `sandbox ${sandbox!.sandboxId} is gone at the provider` },
    });
  });

  it('asks about a sandbox the listing missed before believing it gone', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'RUNNING');
    // The SDK reads an error without a body as an empty list.
    ports.sandboxes.control.after('list', (_args, result) => void (result as SandboxSummary[]).splice(0));

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.lost).toMatchObject({ examined: 1, marked: 0 });
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('RUNNING');
  });

  it('leaves a deployment the saga is still working on to the stuck phase', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'STARTING');
    sandbox!.end();

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.lost.examined).toBe(0);
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('STARTING');
  });

  it('gives the quota of a lost deployment back', async () => {
    // Prepare
    const ports = createFakePorts();
    const { sandbox } = await deploymentIn(ports, 'RUNNING');
    sandbox!.end();

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(ports.quotas.held('user-1')).toEqual([]);
  });

  it('leaves a deployment being stopped to its ender (or the stuck phase)', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
    await ports.deployments.transition(deployment.deploymentId, 'STOPPING', { ending: { to: 'TERMINATED' } });
    sandbox!.end();

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.lost.examined).toBe(0);
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('STOPPING');
  });
});
