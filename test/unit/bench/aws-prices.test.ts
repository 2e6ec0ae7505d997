/** Dollars for counted usage at the stated us-east-1 list prices. */
import { describe, expect, it } from 'vitest';
import { estimateCost, totalDollars, US_EAST_1_PRICES } from '../../../test/bench/aws-prices.ts';
import type { PhaseUsage } from '../../../test/support/deployment-usage.ts';

const usage: PhaseUsage = {
  stateTransitions: 1000,
  transitionsByState: {},
  lambda: { invocations: 1_000_000, byFunction: {}, billedMs: 0, gbSeconds: 1 },
  dynamoDb: { reads: 1_000_000, writes: 1_000_000, byOperation: {} },
  s3: { requests: 3000, writeTier: 1000, readTier: 1000, free: 1000, byOperation: {} },
  eventBridge: { events: 1_000_000, byDetailType: {} },
};

describe('estimateCost', () => {
  it('prices each service by what it bills', () => {
    // Act
    const lines = Object.fromEntries(estimateCost(usage).map((line) => [line.service, line.dollars]));

    // Assert
    expect(lines['Step Functions']).toBeCloseTo(0.025, 10);
    expect(lines['Lambda']).toBeCloseTo(0.2 + 0.0000133334, 10);
    expect(lines['DynamoDB']).toBeCloseTo(0.125 + 0.625, 10);
    expect(lines['S3']).toBeCloseTo(0.005 + 0.0004, 10);
    expect(lines['EventBridge']).toBeCloseTo(1, 10);
  });

  it('adds up to the total, and nothing used costs nothing', () => {
    // Prepare
    const none: PhaseUsage = { ...usage, stateTransitions: 0, lambda: { ...usage.lambda, invocations: 0, gbSeconds: 0 }, dynamoDb: { ...usage.dynamoDb, reads: 0, writes: 0 }, s3: { ...usage.s3, writeTier: 0, readTier: 0, free: 5 }, eventBridge: { ...usage.eventBridge, events: 0 } };

    // Act
    const total = totalDollars(estimateCost(usage));

    // Assert
    expect(total).toBeCloseTo(0.025 + 0.2000133334 + 0.75 + 0.0054 + 1, 10);
    expect(totalDollars(estimateCost(none))).toBe(0);
    expect(US_EAST_1_PRICES.stepFunctionsPerTransition).toBe(0.000025);
  });
});
