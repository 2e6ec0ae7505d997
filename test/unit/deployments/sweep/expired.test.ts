/** The sweep's expired phase: live sandboxes past their recorded expiry are killed, records EXPIRED. */
import { describe, expect, it } from 'vitest';
import { NoLiveSandboxError } from '../../../../functions/shared/deployments/errors.ts';
import { DEFAULT_QUOTA_LIMITS } from '../../../../functions/shared/deployments/quotas/quota-limits.ts';
import { extendLifetime } from '../../../../functions/shared/deployments/requests/operate-deployment.ts';
import { runSweep } from '../../../../functions/shared/deployments/sweep/run-sweep.ts';
import { deploymentIn } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { watchTerminalMeansGone } from '../../../support/fakes/terminal-means-gone.ts';
import { expiredDeployments } from './sweep-scenarios.ts';

describe('the expired phase', () => {
  it('kills the sandbox of a deployment past its expiry, then records it EXPIRED', async () => {
    // Prepare
    const ports = createFakePorts();
    const [expired] = await expiredDeployments(ports, 1);
    const watch = watchTerminalMeansGone(ports);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.expired).toEqual({ examined: 1, killed: 1, marked: 1, errors: 0 });
    expect((await ports.deployments.get(expired!.deployment.deploymentId))?.status).toBe('EXPIRED');
    expect(expired!.sandbox!.alive).toBe(false);
    expect(watch.violations()).toEqual([]);
  });

  it('leaves a deployment whose expiry is still ahead', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
    ports.clock.advanceSeconds(3599);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.expired.examined).toBe(0);
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('RUNNING');
    expect(sandbox!.alive).toBe(true);
  });

  it('expires a deployment the saga is still working on once its sandbox is past its expiry', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'UPLOADING', { sandboxLifetimeSeconds: 7200 });
    ports.workflows.seed(deployment.deploymentId, 'RUNNING');
    ports.clock.advanceSeconds(3601);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('EXPIRED');
    expect(sandbox!.alive).toBe(false);
  });

  it('handles every page of expired deployments in one run', async () => {
    // Prepare
    const ports = createFakePorts();
    const expired = await expiredDeployments(ports, 5);

    // Act
    const report = await runSweep(ports.dependencies, { pageSize: 2 });

    // Assert
    expect(report.phases.expired.marked).toBe(5);
    expect(expired.every((built) => !built.sandbox!.alive)).toBe(true);
  });

  it('spares the sandbox when a keep-alive lands between the read and the kill', async () => {
    // Prepare
    const ports = createFakePorts();
    const [expired] = await expiredDeployments(ports, 1);
    ports.deployments.control.after('listActiveExpiringBefore', async () => {
      await extendLifetime(ports.dependencies, 'user-1', expired!.deployment.deploymentId, 3600, DEFAULT_QUOTA_LIMITS);
    });

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.expired).toMatchObject({ killed: 0, marked: 0 });
    expect(expired!.sandbox!.alive).toBe(true);
    expect(await ports.deployments.get(expired!.deployment.deploymentId)).toMatchObject({ status: 'RUNNING', expiresAt: ports.clock.inSeconds(3600) });
  });

  // Once the sweep has claimed the expiry (STOPPING, conditional on the version a keep-alive
  // bumps), a keep-alive is refused with NoLiveSandboxError: the caller is told, rather than
  // answered 200 for a sandbox about to be killed.
  it('refuses a keep-alive that lands after the claim, while the logs are saved, and ends the deployment EXPIRED', async () => {
    // Prepare
    const ports = createFakePorts();
    const [expired] = await expiredDeployments(ports, 1);
    let keepAlive: Promise<unknown> | undefined;
    ports.sandboxes.handleControl.before('run', () => {
      keepAlive = extendLifetime(ports.dependencies, 'user-1', expired!.deployment.deploymentId, 3600, DEFAULT_QUOTA_LIMITS);
      keepAlive.catch(() => undefined);
    });

    // Act
    await runSweep(ports.dependencies);

    // Assert
    await expect(keepAlive).rejects.toBeInstanceOf(NoLiveSandboxError);
    expect(expired!.sandbox!.alive).toBe(false);
    expect((await ports.deployments.get(expired!.deployment.deploymentId))?.status).toBe('EXPIRED');
  });

  it('gives the quota of an expired deployment back', async () => {
    // Prepare
    const ports = createFakePorts();
    await expiredDeployments(ports, 2);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect(ports.quotas.held('user-1')).toEqual([]);
  });

  it('counts a failure on one deployment and goes on with the next', async () => {
    // Prepare
    const ports = createFakePorts();
    const [first, second] = await expiredDeployments(ports, 2);
    ports.sandboxes.control.failNext('kill', 1, Object.assign(new Error('503'), { name: 'SandboxUnavailableError' }));
    const absorbed: string[] = [];

    // Act
    const report = await runSweep({ ...ports.dependencies, onError: (phase, error, subject) => absorbed.push(`${phase} ${subject} ${(error as Error).name}`) });

    // Assert
    expect(report.phases.expired).toMatchObject({ examined: 2, errors: 1, marked: 1 });
    expect(absorbed).toEqual([`expired ${first!.deployment.deploymentId} SandboxUnavailableError`]);
    expect(await ports.deployments.get(first!.deployment.deploymentId)).toMatchObject({ status: 'STOPPING', ending: { to: 'EXPIRED' } });
    expect((await ports.deployments.get(second!.deployment.deploymentId))?.status).toBe('EXPIRED');
  });

  it('finishes, in the next run, a deployment whose kill failed after the claim', async () => {
    // Prepare
    const ports = createFakePorts();
    const [expired] = await expiredDeployments(ports, 1);
    ports.sandboxes.control.failNext('kill', 1, Object.assign(new Error('503'), { name: 'SandboxUnavailableError' }));
    await runSweep(ports.dependencies);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.expired).toMatchObject({ examined: 1, killed: 1, marked: 1 });
    expect((await ports.deployments.get(expired!.deployment.deploymentId))?.status).toBe('EXPIRED');
    expect(expired!.sandbox!.alive).toBe(false);
  });
});
