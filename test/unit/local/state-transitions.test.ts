/** State transitions counted from the ASL runner's events, as Step Functions bills them. */
import { describe, expect, it } from 'vitest';
import { stateTransitions } from '../../../infra/local/step-functions/state-transitions.ts';

const entered = (name: string) => ({ type: 'StateEntered', state: { name } });

describe('stateTransitions', () => {
  it('counts one per state entered, Map iterations included, and one per retry', () => {
    // Prepare
    const events = [
      { type: 'ExecutionStarted' },
      entered('Create'),
      { type: 'StateFailed', state: { name: 'Create' } },
      { type: 'StateRetried', state: { name: 'Create' } },
      { type: 'StateExited', state: { name: 'Create' } },
      entered('UploadBatches'),
      { type: 'MapIterationStarted' },
      entered('UploadBatch'),
      entered('UploadBatch'),
      { type: 'ExecutionSucceeded' },
    ];

    // Act
    const counted = stateTransitions(events);

    // Assert
    expect(counted.total).toBe(5);
    expect(counted.retries).toBe(1);
    expect(Object.fromEntries(counted.byState)).toEqual({ Create: 2, UploadBatches: 1, UploadBatch: 2 });
  });

  it('counts none for an execution with no state run', () => {
    expect(stateTransitions([{ type: 'ExecutionStarted' }, { type: 'ExecutionAborted' }]).total).toBe(0);
  });
});
