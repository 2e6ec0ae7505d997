/** `POST /deployments`: the record, the staged files and the saga's start, with references only. */
import { describe, expect, it } from 'vitest';
import { SandboxNotReusableError } from '../../../../functions/shared/deployments/errors.ts';
import { submitDeployment } from '../../../../functions/shared/deployments/steps/submit-deployment.ts';
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

  it("redeploys into the caller's live sandbox: the new record takes it over and the old one ends TERMINATED, replaced by it", async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const request = deploymentRequest({ sandboxId: previous.sandbox!.sandboxId });

    // Act
    const redeploy = await submitDeployment(ports.dependencies, { userId: 'user-1', request, deploymentId: 'dep-2' });

    // Assert
    expect(redeploy).toMatchObject({
      sandboxId: previous.sandbox!.sandboxId,
      expiresAt: previous.deployment.expiresAt,
      reusedFrom: { deploymentId: previous.deployment.deploymentId, appPid: previous.app!.pid },
    });
    expect(await ports.deployments.get(previous.deployment.deploymentId)).toMatchObject({ status: 'TERMINATED', replacedBy: 'dep-2' });
    expect(previous.sandbox!.alive).toBe(true);
    expect(ports.workflows.inputOf('dep-2')).toBeDefined();
  });

  it('refuses a redeploy with 409 when the previous deployment changed meanwhile, leaving it and its sandbox as they were', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    // A keep-alive lands after the redeploy read the previous record.
    ports.staging.control.before('putManifest', async () => {
      await ports.deployments.update(previous.deployment.deploymentId, { expiresAt: ports.clock.inSeconds(7200) });
    });

    // Act
    const attempt = submitDeployment(ports.dependencies, { userId: 'user-1', request: deploymentRequest({ sandboxId: previous.sandbox!.sandboxId }), deploymentId: 'dep-2' });

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(SandboxNotReusableError);
    await expect(attempt).rejects.toMatchObject({ statusCode: 409 });
    expect((await ports.deployments.get(previous.deployment.deploymentId))?.status).toBe('RUNNING');
    expect((await ports.deployments.get('dep-2'))?.status).toBe('FAILED');
    expect(previous.app!.running).toBe(true);
  });
});
