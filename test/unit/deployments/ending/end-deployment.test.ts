/**
 * Ending a deployment by any path: STOPPING claimed with the status it ends in, logs saved, every
 * sandbox it owns killed, then the terminal record ("terminal means gone"), then the staged files
 * deleted and the quota given back. The claim between concurrent enders, and a crash after it,
 * are in end-deployment-stopping.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { MANAGED_BY } from '../../../../functions/shared/deployments/app-layout.ts';
import { IllegalTransitionError } from '../../../../functions/shared/deployments/errors.ts';
import { endDeployment } from '../../../../functions/shared/deployments/ending/end-deployment.ts';
import { SandboxUnavailableError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn, redeployInto } from '../../../support/fakes/deployment-builders.ts';
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
  it('claims STOPPING, saves the logs, kills the sandbox, records the end, deletes the staged files and gives the quota back, in that order', async () => {
    // Prepare
    const { ports, deployment, sandbox } = await running();

    // Act
    const { ended, killedSandboxes } = await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Assert
    expect(ended).toMatchObject({ status: 'TERMINATED', ending: { to: 'TERMINATED' } });
    expect(killedSandboxes).toEqual([sandbox!.sandboxId]);
    const order = [
      ports.journal.indexOf('deployments.transition', (args) => args[1] === 'STOPPING'),
      ports.journal.indexOf('logArchive.save'),
      ports.journal.indexOf('sandboxes.kill'),
      ports.journal.indexOf('deployments.transition', (args) => args[1] === 'TERMINATED'),
      ports.journal.indexOf('staging.deleteAll'),
      ports.journal.indexOf('quotas.releaseSlot'),
    ];
    expect(order.every((position) => position >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(ports.logArchive.saved.get(deployment.deploymentId)).toMatchObject({ endedAs: 'TERMINATED', lines: [{ source: 'app', line: 'listening on 3000' }] });
    expect(ports.staging.keysOf(deployment.deploymentId)).toEqual([]);
    expect(ports.quotas.held('user-1')).toEqual([]);
  });

  it('records the cause with the claim, so that it is on the record before anything is killed', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CHECKING_HEALTH');
    const error = { step: 'health' as const, name: 'AppExitedError', message: 'exited' };
    let atKill: unknown;
    ports.sandboxes.control.before('kill', async () => {
      atKill = await ports.deployments.get(deployment.deploymentId);
    });

    // Act
    const { ended } = await endDeployment(ports.dependencies, { deployment, to: 'FAILED', changes: { error } });

    // Assert
    expect(atKill).toMatchObject({ status: 'STOPPING', ending: { to: 'FAILED' }, error });
    expect(ended).toMatchObject({ status: 'FAILED', error });
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

  it('kills the sandbox a create step made meanwhile, and the STOPPING record refuses to name it', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CREATING');
    const metadata = { userId: deployment.userId, projectId: deployment.projectId, deploymentId: deployment.deploymentId, managedBy: MANAGED_BY };
    let late: string | undefined;
    let recordLate: Promise<unknown> | undefined;
    ports.deployments.control.after('transition', () => {
      // The create step's sandbox arrives just after the claim; the step then tries to record it.
      late = ports.sandboxes.seed({ metadata }).sandboxId;
      recordLate = ports.deployments.transition(deployment.deploymentId, 'UPLOADING', { sandboxId: late, expiresAt: ports.clock.inSeconds(3600) });
      recordLate.catch(() => undefined);
    });

    // Act
    const { ended, killedSandboxes } = await endDeployment(ports.dependencies, { deployment, to: 'FAILED' });

    // Assert
    await expect(recordLate).rejects.toBeInstanceOf(IllegalTransitionError);
    expect(ended?.status).toBe('FAILED');
    expect(killedSandboxes).toEqual([late]);
    expect(ports.sandboxes.live()).toEqual([]);
  });

  it('kills nothing of a deployment replaced by a redeploy: its record and its sandbox are the redeploy’s now', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    await redeployInto(ports, previous);
    const replaced = (await ports.deployments.get(previous.deployment.deploymentId))!;
    ports.journal.clear();

    // Act
    const { ended, killedSandboxes } = await endDeployment(ports.dependencies, { deployment: replaced, to: 'TERMINATED' });

    // Assert
    expect(ended).toBeUndefined();
    expect(killedSandboxes).toEqual([]);
    expect(previous.sandbox!.alive).toBe(true);
    expect(ports.journal.names().filter((name) => !name.startsWith('deployments.'))).toEqual([]);
  });

  it('ends a record that still reads RUNNING after its sandbox was handed over, killing nothing', async () => {
    // Prepare: the redeploy's submit died right after the hand-over, before it ended the previous record
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    await ports.ownership.handOver(previous.sandbox!.sandboxId, previous.deployment.deploymentId, 'the-redeploy');
    ports.journal.clear();

    // Act
    const { ended, killedSandboxes } = await endDeployment(ports.dependencies, { deployment: previous.deployment, to: 'TERMINATED' });

    // Assert
    expect(ended?.status).toBe('TERMINATED');
    expect(killedSandboxes).toEqual([]);
    expect(previous.sandbox!.alive).toBe(true);
    expect(ports.journal.calls('sandboxes.kill')).toEqual([]);
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

  it('does nothing to a deployment that has ended already', async () => {
    // Prepare
    const { ports, deployment, sandbox } = await running();
    await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });
    const recorded = await ports.deployments.get(deployment.deploymentId);
    const late = ports.sandboxes.seed({ metadata: { ...sandbox!.metadata } });
    ports.journal.clear();

    // Act
    const result = await endDeployment(ports.dependencies, { deployment, to: 'EXPIRED' });

    // Assert
    expect(result).toEqual({ killedSandboxes: [] });
    expect(await ports.deployments.get(deployment.deploymentId)).toEqual(recorded);
    // What an ended deployment may have left is the orphan phase's (and DELETE's) to kill.
    expect(late.alive).toBe(true);
    expect(ports.journal.calls('sandboxes.kill')).toEqual([]);
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

  it('ends a deployment whose sandbox is gone already, with no logs to save', async () => {
    // Prepare
    const { ports, deployment, sandbox } = await running();
    sandbox!.end();

    // Act
    const { ended } = await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Assert
    expect(ended?.status).toBe('TERMINATED');
    expect(ports.logArchive.saved.has(deployment.deploymentId)).toBe(false);
  });

  it('leaves the record STOPPING with its ending when the kill fails, for the sweep to finish, and propagates the failure with its stable name', async () => {
    // Prepare
    const { ports, deployment, sandbox } = await running();
    ports.sandboxes.control.failNext('kill', 1, new SandboxUnavailableError('503'));

    // Act
    const attempt = endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxUnavailableError' });
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'STOPPING', ending: { to: 'TERMINATED' } });
    expect(sandbox!.alive).toBe(true);
    expect(ports.quotas.held('user-1')).toHaveLength(1);
  });

  it('answers with the record a concurrent ender recorded first, which keeps that ender’s cause', async () => {
    // Prepare
    const { ports, deployment } = await running();
    const error = { step: 'sweep' as const, name: 'Other', message: 'the other ender' };
    ports.sandboxes.control.after('kill', async () => {
      // Another ender of the same deployment records the ending first, with another cause.
      await ports.deployments.transition(deployment.deploymentId, 'TERMINATED', { error });
    });

    // Act
    const { ended } = await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED', changes: { error: { step: 'sweep', name: 'Mine', message: 'mine' } } });

    // Assert
    expect(ended).toMatchObject({ status: 'TERMINATED', error });
    expect((await ports.deployments.get(deployment.deploymentId))?.error).toEqual(error);
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
