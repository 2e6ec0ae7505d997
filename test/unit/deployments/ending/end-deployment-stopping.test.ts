/**
 * STOPPING is the claim of concurrent enders (a DELETE, the saga's Kill step, the sweep): the first
 * to record it decides the status the deployment ends in and its cause; an ender that finds it
 * STOPPING finishes that same ending; a conditional ender (the sweep) that finds the record moved
 * does nothing. An ender that dies after its claim leaves a visible STOPPING record, and the
 * sweep's stuck phase finishes it as its first ender said.
 */
import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../../../functions/shared/deployments/deployment.ts';
import { endDeployment } from '../../../../functions/shared/deployments/ending/end-deployment.ts';
import { terminateDeployment } from '../../../../functions/shared/deployments/requests/terminate-deployment.ts';
import { runSweep } from '../../../../functions/shared/deployments/sweep/run-sweep.ts';
import { deploymentIn } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts, type FakePorts } from '../../../support/fakes/fake-ports.ts';
import { watchTerminalMeansGone } from '../../../support/fakes/terminal-means-gone.ts';

const EXITED = { step: 'health' as const, name: 'AppExitedError', message: 'the app exited before it became healthy' };
const PAST_IN_FLIGHT_GRACE_SECONDS = 61;

/** How the record was written to its terminal status: the writes that changed it. */
function terminalWrites(ports: FakePorts, deploymentId: string): number {
  return ports.journal.calls('deployments.transition', (args) => args[0] === deploymentId && ['FAILED', 'TERMINATED', 'EXPIRED'].includes(args[1] as string)).length;
}

describe('two enders at once', () => {
  it('both finish the first ender’s ending: its status and its cause, written once; the sandbox killed; the quota given back', async () => {
    // Prepare
    const ports = createFakePorts({ interleave: true });
    const { deployment, sandbox } = await deploymentIn(ports, 'CHECKING_HEALTH');
    const watch = watchTerminalMeansGone(ports);
    ports.journal.clear();

    // Act: the saga's Kill step fails it while the caller deletes it
    const [kill, deletion] = await Promise.all([
      endDeployment(ports.dependencies, { deployment, to: 'FAILED', changes: { error: EXITED } }),
      endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' }),
    ]);

    // Assert
    const record = (await ports.deployments.get(deployment.deploymentId))!;
    expect(record).toMatchObject({ status: 'FAILED', ending: { to: 'FAILED' }, error: EXITED });
    // The claim, then one terminal write: the second ender's writes find the record as the first left it.
    expect(record.version).toBe(deployment.version + 2);
    expect(kill.ended?.status).toBe('FAILED');
    expect(deletion.ended?.status).toBe('FAILED');
    expect(sandbox!.alive).toBe(false);
    expect(watch.violations()).toEqual([]);
    expect(ports.quotas.held('user-1')).toEqual([]);
  });

  it('the second, arriving while the first kills, finishes the first’s ending and not its own', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
    let second: Promise<Awaited<ReturnType<typeof endDeployment>>> | undefined;
    ports.sandboxes.control.before('kill', () => {
      // A DELETE lands while the sweep that is expiring the deployment kills its sandbox.
      second = endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });
    });

    // Act
    const first = await endDeployment(ports.dependencies, { deployment, to: 'EXPIRED', onlyIfUnchanged: true });
    const late = await second!;

    // Assert
    expect(first.ended?.status).toBe('EXPIRED');
    expect(late.ended?.status).toBe('EXPIRED');
    expect(sandbox!.alive).toBe(false);
    expect(terminalWrites(ports, deployment.deploymentId)).toBe(2);
    expect((await ports.deployments.get(deployment.deploymentId))?.timestamps.TERMINATED).toBeUndefined();
  });

  it('of two conditional enders (two sweeps), exactly one claims, saves the logs and kills; the other does nothing', async () => {
    // Prepare
    const ports = createFakePorts({ interleave: true });
    const { deployment, sandbox, app } = await deploymentIn(ports, 'RUNNING');
    app!.print('2030-01-01T00:00:00.500Z listening on 3000');
    ports.journal.clear();

    // Act
    const results = await Promise.all([
      endDeployment(ports.dependencies, { deployment, to: 'EXPIRED', onlyIfUnchanged: true }),
      endDeployment(ports.dependencies, { deployment, to: 'EXPIRED', onlyIfUnchanged: true }),
    ]);

    // Assert
    expect(results.filter((result) => result.ended !== undefined)).toHaveLength(1);
    expect(results.map((result) => result.killedSandboxes.length).sort()).toEqual([0, 1]);
    expect(ports.journal.calls('sandboxes.kill')).toHaveLength(1);
    expect(ports.journal.calls('logArchive.save')).toHaveLength(1);
    expect(sandbox!.alive).toBe(false);
  });

  it('a later ender with the same target leaves the first ender’s cause on the record', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CHECKING_HEALTH');
    const stopping = await ports.deployments.transition(deployment.deploymentId, 'STOPPING', { ending: { to: 'FAILED' }, error: EXITED });

    // Act
    await endDeployment(ports.dependencies, { deployment: stopping, to: 'FAILED', changes: { error: { step: 'create', name: 'ExecutionFailed', message: 'later' } } });

    // Assert
    expect((await ports.deployments.get(deployment.deploymentId))?.error).toEqual(EXITED);
  });

  it('a conditional ender that finds the record STOPPING already finishes that ending', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'STARTING');
    const stopping = await ports.deployments.transition(deployment.deploymentId, 'STOPPING', { ending: { to: 'TERMINATED' } });

    // Act
    const { ended } = await endDeployment(ports.dependencies, { deployment: stopping, to: 'EXPIRED', onlyIfUnchanged: true });

    // Assert
    expect(ended?.status).toBe('TERMINATED');
    expect(sandbox!.alive).toBe(false);
  });

  it('an ender arriving after the end writes nothing and kills nothing, and a DELETE answers the record that stands', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CHECKING_HEALTH');
    await endDeployment(ports.dependencies, { deployment, to: 'FAILED', changes: { error: EXITED } });
    const recorded = await ports.deployments.get(deployment.deploymentId);
    ports.journal.clear();

    // Act
    const late = await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });
    const deleted = await terminateDeployment(ports.dependencies, 'user-1', deployment.deploymentId);

    // Assert
    expect(late).toEqual({ killedSandboxes: [] });
    expect(deleted).toEqual(recorded);
    expect(ports.journal.names().filter((name) => name.startsWith('deployments.') && name !== 'deployments.get')).toEqual(['deployments.transition']);
    expect(await ports.deployments.get(deployment.deploymentId)).toEqual(recorded);
  });
});

describe('an ender that dies after its claim', () => {
  /** The ender dies at its kill: the record is STOPPING, its sandbox alive. */
  async function diesAtTheKill(ports: FakePorts, deployment: Deployment, input: Omit<Parameters<typeof endDeployment>[1], 'deployment'>): Promise<void> {
    const died = ports.sandboxes.control.hangNext('kill', 'before');
    void endDeployment(ports.dependencies, { deployment, ...input });
    await died;
  }

  it('leaves a visible STOPPING record with its ending and its cause, and the sandbox alive', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'CHECKING_HEALTH');

    // Act
    await diesAtTheKill(ports, deployment, { to: 'FAILED', changes: { error: EXITED } });

    // Assert
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'STOPPING', ending: { to: 'FAILED' }, error: EXITED });
    expect(sandbox!.alive).toBe(true);
  });

  it('is finished by the sweep with the first ender’s target and error', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'CHECKING_HEALTH');
    await diesAtTheKill(ports, deployment, { to: 'FAILED', changes: { error: EXITED } });
    ports.clock.advanceSeconds(PAST_IN_FLIGHT_GRACE_SECONDS);
    const watch = watchTerminalMeansGone(ports);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.stuck).toEqual({ examined: 1, killed: 1, marked: 1, errors: 0 });
    expect(await ports.deployments.get(deployment.deploymentId)).toMatchObject({ status: 'FAILED', ending: { to: 'FAILED' }, error: EXITED });
    expect(sandbox!.alive).toBe(false);
    expect(watch.violations()).toEqual([]);
    expect(ports.quotas.held('user-1')).toEqual([]);
  });

  it('is finished by the sweep as the status its ender chose, not the sweep’s own FAILED', async () => {
    // Prepare: a DELETE of a deployment still in the saga dies at the kill
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'UPLOADING');
    await diesAtTheKill(ports, deployment, { to: 'TERMINATED' });
    ports.clock.advanceSeconds(PAST_IN_FLIGHT_GRACE_SECONDS);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    const record = await ports.deployments.get(deployment.deploymentId);
    expect(record).toMatchObject({ status: 'TERMINATED' });
    expect(record?.error).toBeUndefined();
    expect(sandbox!.alive).toBe(false);
  });

  it('is left to its ender within the in-flight grace (it may only be slow)', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'CHECKING_HEALTH');
    await diesAtTheKill(ports, deployment, { to: 'FAILED', changes: { error: EXITED } });
    ports.clock.advanceSeconds(PAST_IN_FLIGHT_GRACE_SECONDS - 2);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.stuck.examined).toBe(0);
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('STOPPING');
    expect(sandbox!.alive).toBe(true);
  });

  it('is finished by the sweep when the deployment was RUNNING (a DELETE that died)', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');
    await diesAtTheKill(ports, deployment, { to: 'TERMINATED' });
    ports.clock.advanceSeconds(PAST_IN_FLIGHT_GRACE_SECONDS);

    // Act
    await runSweep(ports.dependencies);

    // Assert
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('TERMINATED');
    expect(sandbox!.alive).toBe(false);
  });

  it('when the deployment was RUNNING, is finished only by the expired phase once its expiry passed (what the bug above leaves)', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING', { sandboxLifetimeSeconds: 7200 });
    await diesAtTheKill(ports, deployment, { to: 'TERMINATED' });
    ports.clock.advanceSeconds(3601);

    // Act
    const report = await runSweep(ports.dependencies);

    // Assert
    expect(report.phases.expired.marked).toBe(1);
    expect((await ports.deployments.get(deployment.deploymentId))?.status).toBe('TERMINATED');
    expect(sandbox!.alive).toBe(false);
  });
});
