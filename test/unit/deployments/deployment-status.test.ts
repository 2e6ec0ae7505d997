/**
 * The deployment status machine: the saga moves forward one step at a time; any deployment not
 * yet ended can be stopped (STOPPING, while its sandbox is killed) and then ends FAILED,
 * TERMINATED or EXPIRED; a running one can be found lost or handed on; terminal statuses never
 * move again.
 */
import { describe, expect, it } from 'vitest';
import {
  DEPLOYMENT_STATUSES,
  IN_FLIGHT_STATUSES,
  TERMINAL_STATUSES,
  isLegalTransition,
  isTerminal,
  legalPredecessors,
  type DeploymentStatus,
} from '../../../functions/shared/deployments/deployment-status.ts';

const SAGA_PATH: readonly DeploymentStatus[] = ['PENDING', 'CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING'];
const TERMINAL: readonly DeploymentStatus[] = ['FAILED', 'TERMINATED', 'EXPIRED', 'LOST'];

/** Every (from, to) pair of statuses. */
const ALL_PAIRS = DEPLOYMENT_STATUSES.flatMap((from) => DEPLOYMENT_STATUSES.map((to) => [from, to] as const));

describe('legal transitions', () => {
  const forwardSteps = SAGA_PATH.slice(1).map((to, index) => [SAGA_PATH[index]!, to] as const);

  it.each(forwardSteps)('the saga moves forward from %s to %s', (from, to) => {
    // Prepare: the step pair comes from the table

    // Act
    const legal = isLegalTransition(from, to);

    // Assert
    expect(legal).toBe(true);
  });

  it.each(SAGA_PATH)('a deployment in %s can be stopped', (from) => {
    // Prepare: the status comes from the table

    // Act
    const legal = isLegalTransition(from, 'STOPPING');

    // Assert
    expect(legal).toBe(true);
  });

  it('a stopping deployment ends failed, terminated or expired, once its sandbox is gone', () => {
    // Prepare
    const targets: DeploymentStatus[] = ['FAILED', 'TERMINATED', 'EXPIRED'];

    // Act
    const legal = DEPLOYMENT_STATUSES.filter((to) => isLegalTransition('STOPPING', to));

    // Assert
    expect(legal).toEqual(targets);
  });

  it('a running deployment can be stopped, handed on to a redeploy (terminated) or found lost', () => {
    // Prepare
    const targets: DeploymentStatus[] = ['STOPPING', 'TERMINATED', 'LOST'];

    // Act
    const legal = DEPLOYMENT_STATUSES.filter((to) => isLegalTransition('RUNNING', to));

    // Assert
    expect(legal).toEqual(targets);
  });

  it('counts a stopping deployment as in flight (the sweep finishes an ending that crashed)', () => {
    expect(IN_FLIGHT_STATUSES.has('STOPPING')).toBe(true);
  });
});

describe('a deployment awaiting its upload', () => {
  it('starts the saga (PENDING) once its upload is complete, or stops (its deadline passed, a DELETE) like any deployment', () => {
    // Prepare
    const targets: DeploymentStatus[] = ['PENDING', 'STOPPING'];

    // Act
    const legal = DEPLOYMENT_STATUSES.filter((to) => isLegalTransition('AWAITING_UPLOAD', to));

    // Assert
    expect(legal).toEqual(targets);
  });

  it('is in flight, so the sweep ends it when its deadline passes', () => {
    // Prepare: the status set comes from the module

    // Act
    const inFlight = IN_FLIGHT_STATUSES.has('AWAITING_UPLOAD');

    // Assert
    expect(inFlight).toBe(true);
  });
});

describe('illegal transitions', () => {
  it.each([
    ['AWAITING_UPLOAD', 'UPLOADING', 'writes files before they were all uploaded'],
    ['AWAITING_UPLOAD', 'EXPIRED', 'expires a deployment without a sandbox'],
    ['PENDING', 'AWAITING_UPLOAD', 'goes backwards'],
  ] as const)('%s -> %s is refused (%s)', (from, to, _why) => {
    // Prepare: the pair comes from the table

    // Act
    const legal = isLegalTransition(from, to);

    // Assert
    expect(legal).toBe(false);
  });

  it.each([
    ['PENDING', 'RUNNING', 'skips every step'],
    ['CREATING', 'STARTING', 'skips the upload'],
    ['UPLOADING', 'CREATING', 'goes backwards'],
    ['RUNNING', 'CHECKING_HEALTH', 'goes backwards'],
    ['RUNNING', 'FAILED', 'fails an app that already runs'],
    ['CHECKING_HEALTH', 'FAILED', 'fails without stopping its sandbox first'],
    ['UPLOADING', 'EXPIRED', 'expires without stopping its sandbox first'],
    ['PENDING', 'TERMINATED', 'terminates without stopping first'],
    ['STOPPING', 'RUNNING', 'runs again once stopping'],
    ['STOPPING', 'LOST', 'loses a deployment being stopped'],
    ['CHECKING_HEALTH', 'LOST', 'loses a deployment that never ran'],
    ['RUNNING', 'RUNNING', 'stays in place'],
  ] as const)('%s -> %s is refused (%s)', (from, to, _why) => {
    // Prepare: the pair comes from the table

    // Act
    const legal = isLegalTransition(from, to);

    // Assert
    expect(legal).toBe(false);
  });
});

describe('terminal statuses', () => {
  it.each(TERMINAL)('%s never moves to any status', (from) => {
    // Prepare
    const targets = DEPLOYMENT_STATUSES;

    // Act
    const reachable = targets.filter((to) => isLegalTransition(from, to));

    // Assert
    expect(reachable).toEqual([]);
  });

  it('isTerminal is true exactly for FAILED, TERMINATED, EXPIRED and LOST', () => {
    // Prepare
    const statuses = DEPLOYMENT_STATUSES;

    // Act
    const terminal = statuses.filter((status) => isTerminal(status));

    // Assert
    expect(terminal).toEqual(TERMINAL);
    expect([...TERMINAL_STATUSES].sort()).toEqual([...TERMINAL].sort());
  });
});

describe('legalPredecessors', () => {
  it.each([
    ['PENDING', ['AWAITING_UPLOAD']],
    ['CREATING', ['PENDING']],
    ['UPLOADING', ['CREATING']],
    ['RUNNING', ['CHECKING_HEALTH']],
    ['STOPPING', ['AWAITING_UPLOAD', 'PENDING', 'CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING']],
    ['FAILED', ['STOPPING']],
    ['TERMINATED', ['RUNNING', 'STOPPING']],
    ['EXPIRED', ['STOPPING']],
    ['LOST', ['RUNNING']],
  ] as const)('%s may be reached from %j', (to, expected) => {
    // Prepare: the target comes from the table

    // Act
    const predecessors = legalPredecessors(to);

    // Assert
    expect(predecessors).toEqual(expected);
  });

  it('agrees with isLegalTransition for every pair of statuses', () => {
    // Prepare
    const pairs = ALL_PAIRS;

    // Act
    const disagreements = pairs.filter(([from, to]) => legalPredecessors(to).includes(from) !== isLegalTransition(from, to));

    // Assert
    expect(disagreements).toEqual([]);
  });

  it('never names a terminal status as a predecessor', () => {
    // Prepare
    const targets = DEPLOYMENT_STATUSES;

    // Act
    const terminalPredecessors = targets.flatMap((to) => legalPredecessors(to).filter((from) => isTerminal(from)));

    // Assert
    expect(terminalPredecessors).toEqual([]);
  });
});
