/** Saga step 1, create: one sandbox per deployment, whatever is retried. */
import { describe, expect, it } from 'vitest';
import { APP_DIR, MANAGED_BY } from '../../../../functions/shared/deployments/app-layout.ts';
import { DeploymentStateError } from '../../../../functions/shared/deployments/errors.ts';
import { createSandbox } from '../../../../functions/shared/deployments/steps/create-sandbox.ts';
import { SandboxRateLimitedError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn, redeployInto, startApp } from '../../../support/fakes/deployment-builders.ts';
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
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'UPLOADING', sandboxId: result.sandboxId, expiresAt: result.expiresAt, sandboxCreatedAt: ports.clock.iso() });
  });

  it('records the deployment as the owner of the sandbox it created', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'PENDING');

    // Act
    const { sandboxId } = await createSandbox(ports.dependencies, deployment.deploymentId);

    // Assert
    expect(ports.ownership.itemOf(sandboxId)).toMatchObject({ owner: deployment.deploymentId, creator: deployment.deploymentId });
  });

  it('keeps the creation time of a sandbox an earlier attempt created, as the bound of its lifetime', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'PENDING');
    const timedOut = ports.sandboxes.control.hangNext('create', 'after');
    void createSandbox(ports.dependencies, deployment.deploymentId);
    await timedOut;
    const createdAt = ports.clock.iso();
    ports.clock.advanceSeconds(90);

    // Act
    await createSandbox(ports.dependencies, deployment.deploymentId);

    // Assert
    expect((await ports.deployments.get(deployment.deploymentId))?.sandboxCreatedAt).toBe(createdAt);
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

  it.each(['STOPPING', 'FAILED', 'TERMINATED'] as const)('refuses a deployment that is %s with DeploymentStateError and creates nothing', async (status) => {
    // Prepare: an ending claimed (and, unless STOPPING, recorded) before the step ran
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'PENDING');
    await ports.deployments.transition(deployment.deploymentId, 'STOPPING', { ending: { to: status === 'STOPPING' ? 'TERMINATED' : status } });
    if (status !== 'STOPPING') await ports.deployments.transition(deployment.deploymentId, status);

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

  it('takes over the sandbox handed to a redeploy: stops the old app, empties the app directory except node_modules and names the sandbox as its own', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const sandbox = previous.sandbox!;
    sandbox.writeFile(`${APP_DIR}/node_modules/express/index.js`, 'module.exports = {}');
    const redeploy = await redeployInto(ports, previous);
    ports.journal.clear();

    // Act
    const result = await createSandbox(ports.dependencies, redeploy.deploymentId);

    // Assert
    expect(result).toEqual({ sandboxId: sandbox.sandboxId, expiresAt: ports.clock.inSeconds(redeploy.options.timeoutSeconds) });
    expect(previous.app!.running).toBe(false);
    expect(sandbox.filesUnder(APP_DIR)).toEqual([`${APP_DIR}/node_modules/express/index.js`]);
    expect(ports.journal.calls('sandboxes.create')).toHaveLength(0);
    expect(await ports.deployments.get(redeploy.deploymentId)).toMatchObject({ status: 'UPLOADING', sandboxId: sandbox.sandboxId, sandboxCreatedAt: previous.deployment.sandboxCreatedAt });
  });

  it('gives a taken-over sandbox the lifetime of the redeploy, from now', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const redeploy = await redeployInto(ports, previous, { timeoutSeconds: 600 });
    ports.clock.advanceSeconds(30);

    // Act
    await createSandbox(ports.dependencies, redeploy.deploymentId);

    // Assert
    expect(previous.sandbox!.expiresAt.toISOString()).toBe(ports.clock.inSeconds(600));
    expect((await ports.deployments.get(redeploy.deploymentId))?.expiresAt).toBe(ports.clock.inSeconds(600));
  });

  it('leaves another process of a taken-over sandbox running', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const worker = startApp(previous.sandbox!, previous.deployment, {}, false);
    const redeploy = await redeployInto(ports, previous);

    // Act
    await createSandbox(ports.dependencies, redeploy.deploymentId);

    // Assert
    expect(worker.running).toBe(true);
  });

  it('refuses to take over a sandbox the redeploy does not own (no hand-over happened), touching nothing', async () => {
    // Prepare: a redeploy record as a submit that died before its hand-over left it
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const died = ports.ownership.control.hangNext('handOver', 'before');
    void redeployInto(ports, previous, { deploymentId: 'redeploy-1' });
    await died;
    ports.journal.clear();

    // Act
    const attempt = createSandbox(ports.dependencies, 'redeploy-1');

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(DeploymentStateError);
    expect(previous.app!.running).toBe(true);
    expect(ports.journal.calls('sandbox.run')).toEqual([]);
    expect(ports.journal.calls('sandboxes.create')).toEqual([]);
    expect((await ports.deployments.get('redeploy-1'))?.sandboxId).toBeUndefined();
  });
});
