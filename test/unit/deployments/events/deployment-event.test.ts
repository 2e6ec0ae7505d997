/**
 * The "Deployment Status Changed" event built from the record after a write: its id names the
 * change, its previous status is the one entered last before, and its fields follow the status.
 */
import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../../../functions/shared/deployments/deployment.ts';
import { previousStatusOf, statusChangeEvent } from '../../../../functions/shared/deployments/events/deployment-event.ts';

function deployment(overrides: Partial<Deployment>): Deployment {
  return {
    deploymentId: 'd-1',
    userId: 'u-1',
    projectId: 'p',
    status: 'PENDING',
    version: 1,
    options: { port: 3000, startCommand: 'node server.js', healthPath: '/health', timeoutSeconds: 3600 },
    envNames: [],
    filesTotal: 1,
    bytesTotal: 1,
    batchesTotal: 1,
    batchProgress: {},
    timestamps: { PENDING: '2030-01-01T00:00:00.000Z' },
    createdAt: '2030-01-01T00:00:00.000Z',
    updatedAt: '2030-01-01T00:00:00.000Z',
    ...overrides,
  };
}

describe('previousStatusOf', () => {
  it('is null for the first status', () => {
    expect(previousStatusOf(deployment({}))).toBeNull();
  });

  it('is the status entered last before the current one', () => {
    // Prepare
    const record = deployment({
      status: 'STARTING',
      timestamps: { PENDING: '2030-01-01T00:00:00.000Z', CREATING: '2030-01-01T00:00:01.000Z', UPLOADING: '2030-01-01T00:00:02.000Z', STARTING: '2030-01-01T00:00:03.000Z' },
    });

    // Act
    const previous = previousStatusOf(record);

    // Assert
    expect(previous).toBe('UPLOADING');
  });

  it('breaks a tie between two writes in the same millisecond by the order statuses follow each other', () => {
    // Prepare
    const same = '2030-01-01T00:00:01.000Z';
    const record = deployment({ status: 'UPLOADING', timestamps: { PENDING: '2030-01-01T00:00:00.000Z', CREATING: same, UPLOADING: same } });

    // Act
    const previous = previousStatusOf(record);

    // Assert
    expect(previous).toBe('CREATING');
  });
});

describe('statusChangeEvent', () => {
  it('names the change by deployment and status, at the time the status was entered', () => {
    // Prepare
    const record = deployment({ status: 'CREATING', version: 2, timestamps: { PENDING: '2030-01-01T00:00:00.000Z', CREATING: '2030-01-01T00:00:05.000Z' } });

    // Act
    const event = statusChangeEvent(record);

    // Assert
    expect(event).toMatchObject({ eventId: 'd-1:CREATING', status: 'CREATING', previousStatus: 'PENDING', step: 'create', version: 2, time: '2030-01-01T00:00:05.000Z' });
  });

  it('carries the failed step and the error of a FAILED deployment', () => {
    // Prepare
    const error = { step: 'start' as const, name: 'StartFailedError', message: 'exited at once' };
    const record = deployment({ status: 'FAILED', error, timestamps: { PENDING: '2030-01-01T00:00:00.000Z', STARTING: '2030-01-01T00:00:01.000Z', FAILED: '2030-01-01T00:00:02.000Z' } });

    // Act
    const event = statusChangeEvent(record);

    // Assert
    expect(event).toMatchObject({ status: 'FAILED', previousStatus: 'STARTING', step: 'start', error });
  });

  it("carries the app's URL once RUNNING, and no step", () => {
    const record = deployment({ status: 'RUNNING', appUrl: 'https://3000-sbx.agentsphere.run', sandboxId: 'sbx', timestamps: { CHECKING_HEALTH: '2030-01-01T00:00:01.000Z', RUNNING: '2030-01-01T00:00:02.000Z' } });

    const event = statusChangeEvent(record);

    expect(event).toMatchObject({ url: 'https://3000-sbx.agentsphere.run', sandboxId: 'sbx', step: null, error: null });
  });

  it('takes the previous status a writer knew for certain over the one it would derive', () => {
    const record = deployment({ status: 'TERMINATED', replacedBy: 'd-2', timestamps: { RUNNING: '2030-01-01T00:00:01.000Z', TERMINATED: '2030-01-01T00:00:02.000Z' } });

    const event = statusChangeEvent(record, 'RUNNING');

    expect(event).toMatchObject({ previousStatus: 'RUNNING', replacedBy: 'd-2' });
  });

  it('never carries the callbackUrl (the bus routes on it; events and webhooks do not repeat it)', () => {
    const event = statusChangeEvent(deployment({ callbackUrl: 'https://hooks.example.com/' }));

    expect(JSON.stringify(event)).not.toContain('hooks.example.com');
  });
});
