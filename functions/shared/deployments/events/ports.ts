/** Where deployment events go: the event bus (EventBridge) and each deployment's history (DynamoDB). */
import type { DeploymentEvent } from './deployment-event.ts';

/** How an event reaches its deployment's webhook, if it has one (the bus routes on it). */
export interface EventRouting {
  callbackUrl?: string;
}

export interface DeploymentEventBus {
  /** Publishes one event; rejects when the bus did not take it. */
  publish(event: DeploymentEvent, routing: EventRouting): Promise<void>;
}

export interface DeploymentEventHistory {
  /** Keeps the event; recording the same eventId again changes nothing. */
  record(event: DeploymentEvent): Promise<void>;
  /** A deployment's events, oldest first. */
  list(deploymentId: string): Promise<DeploymentEvent[]>;
}
