/** `DELETE /deployments/{id}`: the sandbox is killed, then the deployment ends TERMINATED. Idempotent. */
import { describe, expect, it } from 'vitest';
import { DeploymentNotFoundError } from '../../../../functions/shared/deployments/errors.ts';
import { terminateDeployment } from '../../../../functions/shared/deployments/requests/terminate-deployment.ts';
import { SandboxUnavailableError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn, redeployInto } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { watchTerminalMeansGone } from '../../../support/fakes/terminal-means-gone.ts';

describe('terminateDeployment', () => {
  it('kills the sandbox of a running deployment, then records it TERMINATED', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
    const watch = watchTerminalMeansGone(ports);

    // Act
    const terminated = await terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);

    // Assert
    expect(terminated.status).toBe('TERMINATED');
    expect(sandbox!.alive).toBe(false);
    expect(watch.observed).toHaveLength(1);
    expect(watch.violations()).toEqual([]);
  });

  it('answers a repeated DELETE with the same TERMINATED record and writes nothing', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'RUNNING');
    const first = await terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);
    ports.journal.clear();

    // Act
    const second = await terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);

    // Assert
    expect(second).toEqual(first);
    expect(ports.journal.names().filter((name) => name.startsWith('deployments.') && name !== 'deployments.get')).toEqual([]);
  });

  it("answers DeploymentNotFoundError for another user's deployment and touches nothing", async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');

    // Act
    const attempt = terminateDeployment(ports.dependencies, 'someone-else', deployment.deploymentId);

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(DeploymentNotFoundError);
    expect(sandbox!.alive).toBe(true);
  });

  it('terminates a deployment the saga is still working on, killing the sandbox it has so far', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'UPLOADING');

    // Act
    const terminated = await terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);

    // Assert
    expect(terminated.status).toBe('TERMINATED');
    expect(sandbox!.alive).toBe(false);
  });

  it('leaves alone the sandbox a replaced deployment handed to its redeploy', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const redeploy = await redeployInto(ports, previous);

    // Act
    const result = await terminateDeployment(ports.dependencies, 'user-1', previous.deployment.deploymentId);

    // Assert
    expect(result).toMatchObject({ status: 'TERMINATED', replacedBy: redeploy.deploymentId });
    expect(previous.sandbox!.alive).toBe(true);
  });

  it('terminates a redeploy that has not taken its sandbox over yet, killing the sandbox it was handed', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const redeploy = await redeployInto(ports, previous);

    // Act
    const terminated = await terminateDeployment(ports.dependencies, 'user-1', redeploy.deploymentId);

    // Assert
    expect(terminated.status).toBe('TERMINATED');
    expect(previous.sandbox!.alive).toBe(false);
    expect(ports.quotas.held('user-1')).toEqual([]);
  });

  it('kills, on a repeated DELETE, a sandbox an ended deployment still owns', async () => {
    // Prepare: a sandbox its create step made after the ending listed its sandboxes
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
    await terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);
    const late = ports.sandboxes.seed({ metadata: { ...sandbox!.metadata } });

    // Act
    await terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);

    // Assert
    expect(late.alive).toBe(false);
  });

  it("propagates the provider's failure with its stable name and leaves the deployment STOPPING, for the sweep to finish", async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
    ports.sandboxes.control.failNext('kill', 1, new SandboxUnavailableError('503'));

    // Act
    const attempt = terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxUnavailableError' });
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'STOPPING', ending: { to: 'TERMINATED' } });
    expect(sandbox!.alive).toBe(true);
  });

  it('answers with the ending that stood when the deployment was being ended some other way meanwhile', async () => {
    // Prepare: the sweep claimed the deployment's expiry just before the DELETE
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'RUNNING');
    await ports.deployments.transition(deployment.deploymentId, 'STOPPING', { ending: { to: 'EXPIRED' } });

    // Act
    const result = await terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);

    // Assert
    expect(result.status).toBe('EXPIRED');
  });
});
