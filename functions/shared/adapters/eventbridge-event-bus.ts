/**
 * Deployment events on the stack's EventBridge bus: one PutEvents entry per event, source
 * `coderunner`, detail-type "Deployment Status Changed". The detail is the event, plus the
 * deployment's callbackUrl when it has one: the webhook rule routes on it.
 */
import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, STATUS_CHANGED, type DeploymentEvent } from '../deployments/events/deployment-event.ts';
import type { DeploymentEventBus, EventRouting } from '../deployments/events/ports.ts';

export interface EventBridgeEventBusOptions {
  client: EventBridgeClient;
  eventBusName: string;
}

/** PutEvents answered 200 but refused the entry (it reports per entry, not as an error). */
export class EventNotAcceptedError extends Error {
  constructor(code: string | undefined, message: string | undefined) {
    super(`EventBridge did not accept the event: ${code ?? 'unknown error'}${message ? `: ${message}` : ''}`);
    this.name = 'EventNotAcceptedError';
  }
}

export class EventBridgeEventBus implements DeploymentEventBus {
  readonly #client: EventBridgeClient;
  readonly #eventBusName: string;

  constructor(options: EventBridgeEventBusOptions) {
    this.#client = options.client;
    this.#eventBusName = options.eventBusName;
  }

  async publish(event: DeploymentEvent, routing: EventRouting): Promise<void> {
    const detail = { ...event, ...(routing.callbackUrl ? { callbackUrl: routing.callbackUrl } : {}) };
    const { FailedEntryCount = 0, Entries = [] } = await this.#client.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: this.#eventBusName,
            Source: EVENT_SOURCE,
            DetailType: STATUS_CHANGED,
            Detail: JSON.stringify(detail),
            Time: new Date(event.time),
          },
        ],
      }),
    );
    if (FailedEntryCount > 0) throw new EventNotAcceptedError(Entries[0]?.ErrorCode, Entries[0]?.ErrorMessage);
  }
}
