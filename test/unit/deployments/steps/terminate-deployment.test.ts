/** `DELETE /deployments/{id}`: the sandbox is killed, then the deployment ends TERMINATED. Idempotent. */
import { describe, expect, it } from 'vitest';
import { DeploymentNotFoundError } from '../../../../functions/shared/deployments/errors.ts';
import { terminateDeployment } from '../../../../functions/shared/deployments/steps/terminate-deployment.ts';
import { SandboxUnavailableError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn } from '../../../support/fakes/deployment-builders.ts';
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
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
    await ports.deployments.transitionFrom(deployment.deploymentId, deployment, 'TERMINATED', { replacedBy: 'the-redeploy' });

    // Act
    const result = await terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);

    // Assert
    expect(result).toMatchObject({ status: 'TERMINATED', replacedBy: 'the-redeploy' });
    expect(sandbox!.alive).toBe(true);
  });

  it("propagates the provider's failure with its stable name and leaves the deployment RUNNING", async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
    ports.sandboxes.control.failNext('kill', 1, new SandboxUnavailableError('503'));

    // Act
    const attempt = terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxUnavailableError' });
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('RUNNING');
    expect(sandbox!.alive).toBe(true);
  });

  it('answers with the status that stood when the deployment was ended some other way meanwhile', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'RUNNING');
    ports.sandboxes.control.after('kill', async () => {
      await ports.deployments.transition(deployment.deploymentId, 'EXPIRED');
    });

    // Act
    const result = await terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);

    // Assert
    expect(result.status).toBe('EXPIRED');
  });
});
