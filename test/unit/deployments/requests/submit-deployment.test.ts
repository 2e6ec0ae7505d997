/** `POST /deployments`: the quota, the record, the staged files and the saga's start, with references only; a redeploy's hand-over. */
import { describe, expect, it } from 'vitest';
import { SandboxNotReusableError } from '../../../../functions/shared/deployments/errors.ts';
import { DEFAULT_QUOTA_LIMITS } from '../../../../functions/shared/deployments/quotas/quota-limits.ts';
import { submitDeployment } from '../../../../functions/shared/deployments/requests/submit-deployment.ts';
import { deploymentIn, deploymentRequest } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { FakeWorkflows } from '../../../support/fakes/fake-workflows.ts';

const BATCHES_OF_ONE = { maxBatchBytes: 1024 * 1024, maxBatchFiles: 1 };

describe('submitDeployment', () => {
  it('records the deployment PENDING, stages its files and env, and starts the saga with references only', async () => {
    // Prepare
    const ports = createFakePorts();
    const request = deploymentRequest({ options: { env: { SECRET: 's3cret' }, port: 8080 } });

    // Act
    const deployment = await submitDeployment(ports.dependencies, { userId: 'user-1', request, deploymentId: 'dep-1', batchPlan: BATCHES_OF_ONE });

    // Assert
    expect(deployment).toMatchObject({ deploymentId: 'dep-1', status: 'PENDING', envNames: ['SECRET'], filesTotal: 2, batchesTotal: 2, executionArn: FakeWorkflows.arnOf('dep-1') });
    expect(deployment.options).toMatchObject({ port: 8080, startCommand: 'node server.js', healthPath: '/health', timeoutSeconds: 3600 });
    expect(JSON.stringify(deployment)).not.toContain('s3cret');
    expect(await ports.staging.getManifest('dep-1')).toEqual({ deploymentId: 'dep-1', env: { SECRET: 's3cret' } });
    expect(ports.workflows.inputOf('dep-1')).toEqual({
      deploymentId: 'dep-1',
      batches: ports.staging.keysOf('dep-1').filter((key) => key.includes('batch-')).map((key, index) => ({ index, key, files: 1, bytes: expect.any(Number) })),
    });
  });

  it('refuses a second submit with the same deployment id and leaves the first as it was', async () => {
    // Prepare
    const ports = createFakePorts();
    const first = await submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest(), deploymentId: 'dep-1' });

    // Act
    const again = submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ projectId: 'other' }), deploymentId: 'dep-1' });

    // Assert
    await expect(again).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(await ports.deployments.get('dep-1')).toEqual(first);
    expect(ports.journal.calls('workflows.start')).toHaveLength(1);
  });

  it('creates nothing when the project cannot be planned', async () => {
    // Prepare
    const ports = createFakePorts();
    const request = deploymentRequest({ files: [{ path: 'notes.txt', content: 'no app here' }], options: { startCommand: undefined } });

    // Act
    const attempt = submitDeployment(ports.dependencies, { userId: 'user-1', request, deploymentId: 'dep-1' });

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'PlanError' });
    expect(ports.deployments.all()).toEqual([]);
  });

  it('fails the deployment in step submit and deletes what was staged when staging fails, rethrowing the failure', async () => {
    // Prepare
    const ports = createFakePorts();
    ports.staging.control.failNext('putBatch', 1, Object.assign(new Error('S3 is down'), { name: 'ServiceUnavailable' }));

    // Act
    const attempt = submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest(), deploymentId: 'dep-1' });

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'ServiceUnavailable' });
    expect(await ports.deployments.get('dep-1')).toMatchObject({ status: 'FAILED', error: { step: 'submit', name: 'ServiceUnavailable', message: 'S3 is down' } });
    expect(ports.staging.keysOf('dep-1')).toEqual([]);
  });

  it('fails the deployment in step submit when the saga cannot be started', async () => {
    // Prepare
    const ports = createFakePorts();
    ports.workflows.control.failNext('start', 1, Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const attempt = submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest(), deploymentId: 'dep-1' });

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'ThrottlingException' });
    expect((await ports.deployments.get('dep-1'))?.status).toBe('FAILED');
  });

  it('holds a slot of deployments in flight and one of live sandboxes, recorded on the deployment, and counts the start', async () => {
    // Prepare
    const ports = createFakePorts();

    // Act
    const deployment = await submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest(), deploymentId: 'dep-1' });

    // Assert
    expect(deployment.quotaSlots).toEqual({ deploymentsInFlight: 0, liveSandboxes: 0 });
    expect(ports.quotas.held('user-1').map((slot) => `${slot.quota} ${slot.slot} ${slot.holder}`)).toEqual(['deploymentsInFlight 0 dep-1', 'liveSandboxes 0 dep-1']);
    expect(await ports.quotas.startsIn('user-1', '2030-01-01T00:00')).toBe(1);
  });

  it('refuses with QuotaExceededError when all live sandboxes of the user are held, and creates and holds nothing', async () => {
    // Prepare
    const ports = createFakePorts();
    const quotaDefaults = { ...DEFAULT_QUOTA_LIMITS, liveSandboxes: 1 };
    await submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest(), deploymentId: 'dep-1', quotaDefaults });

    // Act
    const attempt = submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest(), deploymentId: 'dep-2', quotaDefaults });

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'QuotaExceededError', quota: 'liveSandboxes', used: 1, limit: 1 });
    expect(await ports.deployments.get('dep-2')).toBeUndefined();
    expect(ports.quotas.held('user-1').map((slot) => slot.holder)).toEqual(['dep-1', 'dep-1']);
    expect(ports.journal.calls('workflows.start')).toHaveLength(1);
  });

  it('refuses a timeoutSeconds past the longest lifetime the user may have, before anything is created', async () => {
    // Prepare
    const ports = createFakePorts();
    ports.quotas.setLimits('user-1', { maxSandboxLifetimeSeconds: 1800 });

    // Act
    const attempt = submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ options: { timeoutSeconds: 3600 } }), deploymentId: 'dep-1' });

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'LifetimeOutOfBoundsError', message: 'options.timeoutSeconds must be at most 1800 (your quota: longest sandbox lifetime)' });
    expect(ports.deployments.all()).toEqual([]);
    expect(ports.quotas.held('user-1')).toEqual([]);
  });

  it('gives its quota back when it fails', async () => {
    // Prepare
    const ports = createFakePorts();
    ports.staging.control.failNext('putBatch', 1, new Error('S3 is down'));

    // Act
    await submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest(), deploymentId: 'dep-1' }).catch(() => undefined);

    // Assert
    expect(ports.quotas.held('user-1')).toEqual([]);
  });

  it("redeploys into the caller's live sandbox: the new record names it to take over, the sandbox and its live slot change owner, the old deployment ends TERMINATED, replaced by it", async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const sandboxId = previous.sandbox!.sandboxId;
    const request = deploymentRequest({ sandboxId });

    // Act
    const redeploy = await submitDeployment(ports.dependencies, { userId: 'user-1', request, deploymentId: 'dep-2' });

    // Assert
    expect(redeploy).toMatchObject({
      status: 'PENDING',
      reusedFrom: { deploymentId: previous.deployment.deploymentId, sandboxId, expiresAt: previous.deployment.expiresAt, appPid: previous.app!.pid },
      sandboxCreatedAt: previous.deployment.sandboxCreatedAt,
      quotaSlots: { deploymentsInFlight: expect.any(Number), liveSandboxes: previous.deployment.quotaSlots!.liveSandboxes },
    });
    // Not its own sandbox until its create step takes it over.
    expect(redeploy.sandboxId).toBeUndefined();
    expect(await ports.ownership.ownerOf(sandboxId)).toBe('dep-2');
    expect(ports.quotas.held('user-1', 'liveSandboxes').map((slot) => slot.holder)).toEqual(['dep-2']);
    expect(await ports.deployments.get(previous.deployment.deploymentId)).toMatchObject({ status: 'TERMINATED', replacedBy: 'dep-2' });
    expect(previous.sandbox!.alive).toBe(true);
    expect(previous.app!.running).toBe(true);
    expect(ports.workflows.inputOf('dep-2')).toBeDefined();
  });

  it('redeploys at the limit of live sandboxes: a redeploy takes no live-sandbox slot of its own', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const quotaDefaults = { ...DEFAULT_QUOTA_LIMITS, liveSandboxes: 1 };

    // Act
    const redeploy = await submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ sandboxId: previous.sandbox!.sandboxId }), deploymentId: 'dep-2', quotaDefaults });

    // Assert
    expect(redeploy.status).toBe('PENDING');
    expect(ports.quotas.held('user-1', 'liveSandboxes').map((slot) => slot.holder)).toEqual(['dep-2']);
  });

  it('redeploys although a keep-alive of the previous deployment lands meanwhile: only the owner of the sandbox decides', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    // A keep-alive lands after the redeploy read the previous record.
    ports.staging.control.before('putManifest', async () => {
      await ports.deployments.update(previous.deployment.deploymentId, { expiresAt: ports.clock.inSeconds(7200) });
    });

    // Act
    const redeploy = await submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ sandboxId: previous.sandbox!.sandboxId }), deploymentId: 'dep-2' });

    // Assert
    expect(redeploy.status).toBe('PENDING');
    expect(await ports.deployments.get(previous.deployment.deploymentId)).toMatchObject({ status: 'TERMINATED', replacedBy: 'dep-2' });
  });

  it('refuses a redeploy with 409 when another redeploy took the sandbox over meanwhile, leaving that one its sandbox and the app', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    ports.staging.control.before('putManifest', async () => {
      await ports.ownership.handOver(previous.sandbox!.sandboxId, previous.deployment.deploymentId, 'dep-other');
    });

    // Act
    const attempt = submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ sandboxId: previous.sandbox!.sandboxId }), deploymentId: 'dep-2' });

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(SandboxNotReusableError);
    await expect(attempt).rejects.toMatchObject({ statusCode: 409 });
    expect((await ports.deployments.get(previous.deployment.deploymentId))?.status).toBe('RUNNING');
    expect((await ports.deployments.get('dep-2'))?.status).toBe('FAILED');
    expect(previous.app!.running).toBe(true);
    expect(ports.quotas.held('user-1').map((slot) => slot.holder)).toEqual([previous.deployment.deploymentId]);
  });
});
