/**
 * Two sweeps at once (two scheduled invocations overlapping): claims and conditional writes make
 * exactly one of them end each record and kill each orphan. Every fake call yields first, so the
 * two runs really interleave.
 */
import { describe, expect, it } from 'vitest';
import { runSweep } from '../../../../functions/shared/deployments/sweep/run-sweep.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { expiredDeployments, inFlight, killsBySandbox, ourSandbox } from './sweep-scenarios.ts';

describe('two concurrent sweeps', () => {
  it('end each expired deployment exactly once, killing each sandbox once', async () => {
    // Prepare
    const ports = createFakePorts({ interleave: true });
    const expired = await expiredDeployments(ports, 4);
    ports.journal.clear();

    // Act
    const reports = await Promise.all([runSweep(ports.dependencies), runSweep(ports.dependencies)]);

    // Assert
    expect(reports[0]!.phases.expired.marked + reports[1]!.phases.expired.marked).toBe(4);
    const kills = killsBySandbox(ports);
    expect(expired.map((built) => kills.get(built.sandbox!.sandboxId))).toEqual([1, 1, 1, 1]);
    expect(ports.deployments.all().map((record) => record.status)).toEqual(['EXPIRED', 'EXPIRED', 'EXPIRED', 'EXPIRED']);
  });

  it('fail each stuck deployment exactly once', async () => {
    // Prepare
    const ports = createFakePorts({ interleave: true });
    const stuck = [await inFlight(ports, 'STARTING', 'FAILED'), await inFlight(ports, 'UPLOADING', 'NOT_FOUND')];
    ports.clock.advanceSeconds(1_201);
    ports.journal.clear();

    // Act
    const reports = await Promise.all([runSweep(ports.dependencies), runSweep(ports.dependencies)]);

    // Assert
    expect(reports[0]!.phases.stuck.marked + reports[1]!.phases.stuck.marked).toBe(2);
    const kills = killsBySandbox(ports);
    expect(stuck.map((built) => kills.get(built.sandbox!.sandboxId))).toEqual([1, 1]);
  });

  it('kill each orphan exactly once', async () => {
    // Prepare
    const ports = createFakePorts({ interleave: true });
    const orphans = [ourSandbox(ports, 'gone-1'), ourSandbox(ports, 'gone-2'), ourSandbox(ports, 'gone-3')];
    ports.clock.advanceSeconds(121);
    ports.journal.clear();

    // Act
    const reports = await Promise.all([runSweep(ports.dependencies), runSweep(ports.dependencies)]);

    // Assert
    expect(reports[0]!.phases.orphans.killed + reports[1]!.phases.orphans.killed).toBe(3);
    const kills = killsBySandbox(ports);
    expect(orphans.map((sandbox) => kills.get(sandbox.sandboxId))).toEqual([1, 1, 1]);
  });
});
