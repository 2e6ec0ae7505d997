/**
 * The stack's event bus (EventBridge, EVENT_BUS_NAME), built on the first event: only handlers
 * that change a status publish. The endpoint comes from the AWS SDK's own configuration
 * (AWS_ENDPOINT_URL_EVENTBRIDGE locally).
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EventBridgeEventBus } from '../adapters/eventbridge-event-bus.ts';
import { requiredEnv } from './environment.ts';

let bus: EventBridgeEventBus | undefined;

export function deploymentEventBus(): EventBridgeEventBus {
  bus ??= new EventBridgeEventBus({
    // The publisher retries within its own small budget: one SDK attempt per try, bounded in time.
    client: new EventBridgeClient({ maxAttempts: 1, requestHandler: { connectionTimeout: 500, requestTimeout: 1_000 } }),
    eventBusName: requiredEnv('EVENT_BUS_NAME'),
  });
  return bus;
}
