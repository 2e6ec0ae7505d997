/**
 * Public on-demand list prices in US East (N. Virginia), as the AWS pricing pages state them
 * (read 2025; DynamoDB's on-demand prices after the cut of 2024-11-01), without free tiers or
 * volume discounts. The cost benchmark turns counted usage into dollars with them.
 */
import type { PhaseUsage } from '../support/deployment-usage.ts';

export const US_EAST_1_PRICES = {
  /** Step Functions Standard: $0.025 per 1,000 state transitions (retries included). */
  stepFunctionsPerTransition: 0.025 / 1_000,
  /** Lambda: $0.20 per 1M requests. */
  lambdaPerRequest: 0.2 / 1_000_000,
  /** Lambda on Arm (the stack's functions are ARM_64), first tier: $0.0000133334 per GB-second. */
  lambdaArmPerGbSecond: 0.0000133334,
  /** DynamoDB on demand: $0.625 per million write request units (one per write of up to 1 KB). */
  dynamoDbPerWriteUnit: 0.625 / 1_000_000,
  /** DynamoDB on demand: $0.125 per million read request units (one strongly consistent read of up to 4 KB). */
  dynamoDbPerReadUnit: 0.125 / 1_000_000,
  /** S3 Standard: PUT, COPY, POST and LIST requests, $0.005 per 1,000. */
  s3PerWriteTierRequest: 0.005 / 1_000,
  /** S3 Standard: GET, HEAD and all other requests, $0.0004 per 1,000 (DELETE is free). */
  s3PerReadTierRequest: 0.0004 / 1_000,
  /** EventBridge: custom events published, $1.00 per million (each 64 KB chunk is one event). */
  eventBridgePerEvent: 1 / 1_000_000,
} as const;

export type Service = 'Step Functions' | 'Lambda' | 'DynamoDB' | 'S3' | 'EventBridge';

export interface CostLine {
  service: Service;
  /** What was counted, in words. */
  counted: string;
  dollars: number;
}

/**
 * Dollars for this usage, per service. DynamoDB counts one request unit per request: items here
 * are under 1 KB (writes) and 4 KB (reads), but a write also costs one unit for each global
 * secondary index it changes, which requests do not show, so DynamoDB is a lower bound.
 */
export function estimateCost(usage: PhaseUsage, prices = US_EAST_1_PRICES): CostLine[] {
  const { lambda, dynamoDb, s3, eventBridge } = usage;
  return [
    { service: 'Step Functions', counted: `${usage.stateTransitions} state transitions`, dollars: usage.stateTransitions * prices.stepFunctionsPerTransition },
    {
      service: 'Lambda',
      counted: `${lambda.invocations} invocations, ${lambda.gbSeconds.toFixed(3)} GB-s`,
      dollars: lambda.invocations * prices.lambdaPerRequest + lambda.gbSeconds * prices.lambdaArmPerGbSecond,
    },
    { service: 'DynamoDB', counted: `${dynamoDb.reads} reads, ${dynamoDb.writes} writes`, dollars: dynamoDb.reads * prices.dynamoDbPerReadUnit + dynamoDb.writes * prices.dynamoDbPerWriteUnit },
    {
      service: 'S3',
      counted: `${s3.requests} requests (${s3.writeTier} PUT/POST/LIST, ${s3.readTier} GET/HEAD, ${s3.free} DELETE)`,
      dollars: s3.writeTier * prices.s3PerWriteTierRequest + s3.readTier * prices.s3PerReadTierRequest,
    },
    { service: 'EventBridge', counted: `${eventBridge.events} events`, dollars: eventBridge.events * prices.eventBridgePerEvent },
  ];
}

export function totalDollars(lines: readonly CostLine[]): number {
  return lines.reduce((sum, line) => sum + line.dollars, 0);
}
