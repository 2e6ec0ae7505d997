/**
 * The deployment status machine: the saga moves forward one step at a time, any in-flight step
 * can fail or be terminated, the sweep can expire or lose a deployment, and terminal statuses
 * never move again.
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

  it.each([...IN_FLIGHT_STATUSES])('a deployment in %s can fail and can be terminated', (from) => {
    // Prepare: the in-flight status comes from the table

    // Act
    const outcomes = { failed: isLegalTransition(from, 'FAILED'), terminated: isLegalTransition(from, 'TERMINATED') };

    // Assert
    expect(outcomes).toEqual({ failed: true, terminated: true });
  });

  it.each(['CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING'] as const)(
    'a deployment in %s (its sandbox may exist) can expire',
    (from) => {
      // Prepare: the status comes from the table

      // Act
      const legal = isLegalTransition(from, 'EXPIRED');

      // Assert
      expect(legal).toBe(true);
    },
  );

  it('a running deployment can be terminated, expire or be found lost', () => {
    // Prepare
    const targets: DeploymentStatus[] = ['TERMINATED', 'EXPIRED', 'LOST'];

    // Act
    const legal = targets.filter((to) => isLegalTransition('RUNNING', to));

    // Assert
    expect(legal).toEqual(targets);
  });
});

describe('a deployment awaiting its upload', () => {
  it('starts the saga (PENDING) once its upload is complete, and can fail or be terminated', () => {
    // Prepare
    const targets: DeploymentStatus[] = ['PENDING', 'FAILED', 'TERMINATED'];

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
    ['PENDING', 'EXPIRED', 'expires a deployment without a sandbox'],
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
    ['FAILED', ['AWAITING_UPLOAD', 'PENDING', 'CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH']],
    ['TERMINATED', ['AWAITING_UPLOAD', 'PENDING', 'CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING']],
    ['EXPIRED', ['CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING']],
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
