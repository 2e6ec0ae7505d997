/**
 * Ending a deployment by any path: logs saved, then every sandbox of it killed, then the terminal
 * record ("terminal means gone"), then the staged files deleted.
 */
import { describe, expect, it } from 'vitest';
import { MANAGED_BY } from '../../../../functions/shared/deployments/app-layout.ts';
import { endDeployment } from '../../../../functions/shared/deployments/steps/end-deployment.ts';
import { SandboxUnavailableError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { watchTerminalMeansGone } from '../../../support/fakes/terminal-means-gone.ts';

async function running() {
  const ports = createFakePorts();
  const built = await deploymentIn(ports, 'RUNNING');
  built.app!.print('2030-01-01T00:00:00.500Z listening on 3000');
  ports.journal.clear();
  return { ports, ...built };
}

describe('endDeployment', () => {
  it('saves the logs, kills the sandbox, records the end, then deletes the staged files, in that order', async () => {
    // Prepare
    const { ports, deployment, sandbox } = await running();

    // Act
    const { ended, killedSandboxes } = await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Assert
    expect(ended?.status).toBe('TERMINATED');
    expect(killedSandboxes).toEqual([sandbox!.sandboxId]);
    const order = ['logArchive.save', 'sandboxes.kill', 'deployments.transition', 'staging.deleteAll'].map((name) => ports.journal.indexOf(name));
    expect(order.every((position) => position >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(ports.logArchive.saved.get(deployment.deploymentId)).toMatchObject({ endedAs: 'TERMINATED', lines: [{ source: 'app', line: 'listening on 3000' }] });
    expect(ports.staging.keysOf(deployment.deploymentId)).toEqual([]);
  });

  it('has no live sandbox of the deployment at the moment its record becomes terminal', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CHECKING_HEALTH');
    const watch = watchTerminalMeansGone(ports);

    // Act
    await endDeployment(ports.dependencies, { deployment, to: 'FAILED', changes: { error: { step: 'health', name: 'AppExitedError', message: 'exited' } } });

    // Assert
    expect(watch.observed).toHaveLength(1);
    expect(watch.violations()).toEqual([]);
  });

  it('kills every sandbox carrying the deployment id, not only the one it records', async () => {
    // Prepare
    const { ports, deployment, sandbox } = await running();
    const unrecorded = ports.sandboxes.seed({ metadata: { ...sandbox!.metadata } });

    // Act
    const { killedSandboxes } = await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Assert
    expect([...killedSandboxes].sort()).toEqual([sandbox!.sandboxId, unrecorded.sandboxId].sort());
    expect(ports.sandboxes.live()).toEqual([]);
  });

  it('also kills a sandbox the record came to name between the kill and the record (a create finishing then)', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CREATING');
    const metadata = { userId: deployment.userId, projectId: deployment.projectId, deploymentId: deployment.deploymentId, managedBy: MANAGED_BY };
    let late: string | undefined;
    ports.sandboxes.control.after('list', async () => {
      // The create step's sandbox arrives after the cleanup listed the deployment's sandboxes.
      late = ports.sandboxes.seed({ metadata }).sandboxId;
      await ports.deployments.transition(deployment.deploymentId, 'UPLOADING', { sandboxId: late, expiresAt: ports.clock.inSeconds(3600) });
    });

    // Act
    const { ended, killedSandboxes } = await endDeployment(ports.dependencies, { deployment, to: 'FAILED' });

    // Assert
    expect(ended).toMatchObject({ status: 'FAILED', sandboxId: late });
    expect(killedSandboxes).toEqual([late]);
    expect(ports.sandboxes.live()).toEqual([]);
  });

  it('hands the sandbox of a replaced deployment on untouched: no logs taken, nothing killed, nothing deleted', async () => {
    // Prepare
    const { ports, deployment, sandbox } = await running();
    const replaced = (await ports.deployments.transitionFrom(deployment.deploymentId, deployment, 'TERMINATED', { replacedBy: 'the-redeploy' }))!;
    ports.journal.clear();

    // Act
    const { killedSandboxes } = await endDeployment(ports.dependencies, { deployment: replaced, to: 'TERMINATED' });

    // Assert
    expect(killedSandboxes).toEqual([]);
    expect(sandbox!.alive).toBe(true);
    expect(ports.journal.names().filter((name) => !name.startsWith('deployments.'))).toEqual([]);
  });

  it('with onlyIfUnchanged, does nothing to a record changed since it was read', async () => {
    // Prepare
    const { ports, deployment, sandbox } = await running();
    await ports.deployments.update(deployment.deploymentId, { expiresAt: ports.clock.inSeconds(7200) });

    // Act
    const result = await endDeployment(ports.dependencies, { deployment, to: 'EXPIRED', onlyIfUnchanged: true });

    // Assert
    expect(result).toEqual({ killedSandboxes: [] });
    expect(sandbox!.alive).toBe(true);
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('RUNNING');
  });

  it('does nothing when the claim goes to another caller', async () => {
    // Prepare
    const { ports, deployment, sandbox } = await running();

    // Act
    const result = await endDeployment(ports.dependencies, { deployment, to: 'EXPIRED', claim: async () => false });

    // Assert
    expect(result).toEqual({ killedSandboxes: [] });
    expect(sandbox!.alive).toBe(true);
  });

  it('ends the deployment even when its logs cannot be saved', async () => {
    // Prepare
    const { ports, deployment, sandbox } = await running();
    ports.logArchive.control.failNext('save', 1, new Error('S3 is down'));

    // Act
    const { ended } = await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Assert
    expect(ended?.status).toBe('TERMINATED');
    expect(sandbox!.alive).toBe(false);
  });

  it('leaves the record as it was when the kill fails, and propagates the failure with its stable name', async () => {
    // Prepare
    const { ports, deployment, sandbox } = await running();
    ports.sandboxes.control.failNext('kill', 1, new SandboxUnavailableError('503'));

    // Act
    const attempt = endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxUnavailableError' });
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('RUNNING');
    expect(sandbox!.alive).toBe(true);
  });

  it('keeps the status of whoever ended the deployment meanwhile', async () => {
    // Prepare
    const { ports, deployment } = await running();
    ports.sandboxes.control.after('kill', async () => {
      await ports.deployments.transition(deployment.deploymentId, 'EXPIRED');
    });

    // Act
    const { ended } = await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Assert
    expect(ended).toBeUndefined();
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('EXPIRED');
  });

  it.each([
    ['FAILED', true],
    ['TERMINATED', false],
  ] as const)('collects npm debug logs for the saved logs of a deployment ending %s: %s', async (to, included) => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CHECKING_HEALTH');
    ports.journal.clear();

    // Act
    await endDeployment(ports.dependencies, { deployment, to });

    // Assert
    const script = String(ports.journal.calls('sandbox.run')[0]?.args[1]);
    expect(script.includes('.npm/_logs')).toBe(included);
  });
});
