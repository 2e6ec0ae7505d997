/** Saga step 1, create: one sandbox per deployment, whatever is retried. */
import { describe, expect, it } from 'vitest';
import { APP_DIR, MANAGED_BY } from '../../../../functions/shared/deployments/app-layout.ts';
import { DeploymentStateError } from '../../../../functions/shared/deployments/errors.ts';
import { createSandbox } from '../../../../functions/shared/deployments/steps/create-sandbox.ts';
import { SandboxRateLimitedError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn, startApp } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';

describe('createSandbox', () => {
  it('creates a sandbox with the deployment metadata and records it with its expiry, moving to UPLOADING', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'PENDING', { env: { API_KEY: 'secret' } });

    // Act
    const result = await createSandbox(ports.dependencies, deployment.deploymentId);

    // Assert
    const sandbox = ports.sandboxes.sandbox(result.sandboxId);
    expect(sandbox.metadata).toEqual({ userId: 'user-1', projectId: 'hello', deploymentId: deployment.deploymentId, managedBy: MANAGED_BY });
    expect(sandbox.env).toEqual({ API_KEY: 'secret', PORT: '3000' });
    expect(result.expiresAt).toBe(ports.clock.inSeconds(3600));
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'UPLOADING', sandboxId: result.sandboxId, expiresAt: result.expiresAt });
  });

  it('answers a retry after success with the same sandbox and creates no other', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'PENDING');
    const first = await createSandbox(ports.dependencies, deployment.deploymentId);

    // Act
    const retried = await createSandbox(ports.dependencies, deployment.deploymentId);

    // Assert
    expect(retried).toEqual(first);
    expect(ports.journal.calls('sandboxes.create')).toHaveLength(1);
  });

  it('reuses the sandbox an attempt created before its Lambda timed out, found by its metadata', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'PENDING');
    // The first attempt's create reached the provider; its answer never came back.
    const timedOut = ports.sandboxes.control.hangNext('create', 'after');
    void createSandbox(ports.dependencies, deployment.deploymentId);
    await timedOut;

    // Act
    const retried = await createSandbox(ports.dependencies, deployment.deploymentId);

    // Assert
    expect(ports.sandboxes.live(deployment.deploymentId).map((sandbox) => sandbox.sandboxId)).toEqual([retried.sandboxId]);
    expect(ports.journal.calls('sandboxes.create')).toHaveLength(1);
  });

  it('kills extra sandboxes carrying the deployment id, keeping one', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CREATING');
    const metadata = { userId: 'user-1', projectId: 'hello', deploymentId: deployment.deploymentId, managedBy: MANAGED_BY };
    ports.sandboxes.seed({ metadata });
    ports.sandboxes.seed({ metadata });

    // Act
    const result = await createSandbox(ports.dependencies, deployment.deploymentId);

    // Assert
    expect(ports.sandboxes.live(deployment.deploymentId).map((sandbox) => sandbox.sandboxId)).toEqual([result.sandboxId]);
  });

  it.each(['FAILED', 'TERMINATED'] as const)('refuses a deployment that is %s with DeploymentStateError and creates nothing', async (status) => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'PENDING');
    await ports.deployments.transition(deployment.deploymentId, status);

    // Act
    const attempt = createSandbox(ports.dependencies, deployment.deploymentId);

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(DeploymentStateError);
    expect(ports.journal.calls('sandboxes.create')).toHaveLength(0);
  });

  it("propagates the provider's failure with its stable name and leaves the record CREATING for the retry", async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'PENDING');
    ports.sandboxes.control.failNext('create', 1, new SandboxRateLimitedError('429 Too Many Requests'));

    // Act
    const attempt = createSandbox(ports.dependencies, deployment.deploymentId);

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxRateLimitedError', transient: true });
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('CREATING');
  });

  it('takes over the sandbox of a redeploy: stops the old app and empties the app directory except node_modules', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const sandbox = previous.sandbox!;
    sandbox.writeFile(`${APP_DIR}/node_modules/express/index.js`, 'module.exports = {}');
    const { deployment } = await deploymentIn(ports, 'PENDING', {
      overrides: { sandboxId: sandbox.sandboxId, expiresAt: previous.deployment.expiresAt!, reusedFrom: { deploymentId: previous.deployment.deploymentId, appPid: previous.app!.pid } },
    });

    // Act
    const result = await createSandbox(ports.dependencies, deployment.deploymentId);

    // Assert
    expect(result).toEqual({ sandboxId: sandbox.sandboxId, expiresAt: previous.deployment.expiresAt });
    expect(previous.app!.running).toBe(false);
    expect(sandbox.filesUnder(APP_DIR)).toEqual([`${APP_DIR}/node_modules/express/index.js`]);
    expect(ports.journal.calls('sandboxes.create')).toHaveLength(0);
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('UPLOADING');
  });

  it('leaves another process of a taken-over sandbox running', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const worker = startApp(previous.sandbox!, previous.deployment, {}, false);
    const { deployment } = await deploymentIn(ports, 'PENDING', {
      overrides: { sandboxId: previous.sandbox!.sandboxId, expiresAt: previous.deployment.expiresAt!, reusedFrom: { deploymentId: previous.deployment.deploymentId, appPid: previous.app!.pid } },
    });

    // Act
    await createSandbox(ports.dependencies, deployment.deploymentId);

    // Assert
    expect(worker.running).toBe(true);
  });
});
