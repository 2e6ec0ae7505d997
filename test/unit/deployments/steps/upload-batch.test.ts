/** Saga step 2, one batch of the upload Map: one write request per batch, counted once per index. */
import { describe, expect, it } from 'vitest';
import { APP_DIR } from '../../../../functions/shared/deployments/app-layout.ts';
import { filesUploaded } from '../../../../functions/shared/deployments/deployment.ts';
import { DeploymentStateError, StagedFilesMissingError } from '../../../../functions/shared/deployments/errors.ts';
import { uploadBatch } from '../../../../functions/shared/deployments/steps/upload-batch.ts';
import { SandboxGoneError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';

const FILES = [
  { path: 'server.js', content: Buffer.from('console.log(1)') },
  { path: 'public/index.html', content: Buffer.from('<h1>hi</h1>') },
];

async function uploading() {
  const ports = createFakePorts();
  const built = await deploymentIn(ports, 'UPLOADING', { files: FILES });
  ports.journal.clear();
  return { ports, ...built, input: { deploymentId: built.deployment.deploymentId, batch: { index: 0, key: built.batches[0]!.key } } };
}

describe('uploadBatch', () => {
  it("writes the batch's files into the app directory in one request and records the batch", async () => {
    // Prepare
    const { ports, sandbox, input } = await uploading();

    // Act
    const result = await uploadBatch(ports.dependencies, input);

    // Assert
    expect(result).toEqual({ index: 0, files: 2 });
    expect(sandbox!.readText(`${APP_DIR}/public/index.html`)).toBe('<h1>hi</h1>');
    expect(ports.journal.calls('sandbox.writeFiles')).toHaveLength(1);
    expect(filesUploaded((await ports.deployments.get(input.deploymentId))!)).toBe(2);
  });

  it('counts a retried batch once', async () => {
    // Prepare
    const { ports, input } = await uploading();
    await uploadBatch(ports.dependencies, input);

    // Act
    await uploadBatch(ports.dependencies, input);

    // Assert
    expect(filesUploaded((await ports.deployments.get(input.deploymentId))!)).toBe(2);
  });

  it.each(['STOPPING', 'TERMINATED'] as const)('refuses a deployment that is %s with DeploymentStateError and writes nothing', async (status) => {
    // Prepare: a DELETE claimed the ending (and, for TERMINATED, finished it)
    const { ports, input } = await uploading();
    await ports.deployments.transition(input.deploymentId, 'STOPPING', { ending: { to: 'TERMINATED' } });
    if (status === 'TERMINATED') await ports.deployments.transition(input.deploymentId, 'TERMINATED');

    // Act
    const attempt = uploadBatch(ports.dependencies, input);

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(DeploymentStateError);
    expect(ports.journal.calls('sandbox.writeFiles')).toHaveLength(0);
  });

  it('fails with StagedFilesMissingError when the staged batch has gone', async () => {
    // Prepare
    const { ports, input } = await uploading();
    await ports.staging.deleteAll(input.deploymentId);

    // Act
    const attempt = uploadBatch(ports.dependencies, input);

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(StagedFilesMissingError);
  });

  it("propagates the provider's failure with its stable name and records nothing", async () => {
    // Prepare
    const { ports, input } = await uploading();
    ports.sandboxes.handleControl.failNext('writeFiles', 1, new SandboxGoneError('sandbox ended'));

    // Act
    const attempt = uploadBatch(ports.dependencies, input);

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxGoneError' });
    expect(filesUploaded((await ports.deployments.get(input.deploymentId))!)).toBe(0);
  });
});
