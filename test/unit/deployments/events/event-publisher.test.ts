/**
 * The event publisher never fails or holds up a status change: a bus that fails is retried
 * briefly, one that keeps failing or never answers is reported and given up on.
 */
import { describe, expect, it } from 'vitest';
import type { DeploymentEvent } from '../../../../functions/shared/deployments/events/deployment-event.ts';
import { DeploymentEventPublisher, EventPublishTimeoutError, type EventTarget } from '../../../../functions/shared/deployments/events/event-publisher.ts';
import type { DeploymentEventBus, DeploymentEventHistory } from '../../../../functions/shared/deployments/events/ports.ts';

const EVENT = { eventId: 'd-1:PENDING', deploymentId: 'd-1', status: 'PENDING' } as DeploymentEvent;

/** An in-memory bus that fails its first `failures` calls. */
class FlakyBus implements DeploymentEventBus {
  calls = 0;
  readonly published: DeploymentEvent[] = [];
  readonly #failures: number;

  constructor(failures: number) {
    this.#failures = failures;
  }

  async publish(event: DeploymentEvent): Promise<void> {
    this.calls += 1;
    if (this.calls <= this.#failures) throw new Error('ThrottlingException');
    this.published.push(event);
  }
}

class MemoryHistory implements DeploymentEventHistory {
  readonly events: DeploymentEvent[] = [];
  async record(event: DeploymentEvent): Promise<void> {
    this.events.push(event);
  }
  async list(): Promise<DeploymentEvent[]> {
    return this.events;
  }
}

function failures() {
  const seen: { target: EventTarget; error: unknown }[] = [];
  return { seen, onFailure: (target: EventTarget, _event: DeploymentEvent, error: unknown) => seen.push({ target, error }) };
}

describe('DeploymentEventPublisher', () => {
  it('retries a bus that fails twice and publishes once', async () => {
    // Prepare
    const bus = new FlakyBus(2);
    const reported = failures();
    const publisher = new DeploymentEventPublisher({ bus, history: new MemoryHistory(), firstDelayMs: 1, onFailure: reported.onFailure });

    // Act
    await publisher.publish(EVENT);

    // Assert
    expect({ calls: bus.calls, published: bus.published, failures: reported.seen }).toEqual({ calls: 3, published: [EVENT], failures: [] });
  });

  it('reports a bus that keeps failing and still resolves, with the history recorded', async () => {
    // Prepare
    const bus = new FlakyBus(Number.POSITIVE_INFINITY);
    const history = new MemoryHistory();
    const reported = failures();
    const publisher = new DeploymentEventPublisher({ bus, history, attempts: 3, firstDelayMs: 1, onFailure: reported.onFailure });

    // Act
    await publisher.publish(EVENT);

    // Assert
    expect(bus.calls).toBe(3);
    expect(history.events).toEqual([EVENT]);
    expect(reported.seen).toEqual([{ target: 'bus', error: expect.objectContaining({ message: 'ThrottlingException' }) }]);
  });

  it('gives up on a bus that never answers once its budget is spent', async () => {
    // Prepare
    const silent: DeploymentEventBus = { publish: () => new Promise(() => undefined) };
    const reported = failures();
    const publisher = new DeploymentEventPublisher({ bus: silent, history: new MemoryHistory(), budgetMs: 50, onFailure: reported.onFailure });

    // Act
    await publisher.publish(EVENT);

    // Assert
    expect(reported.seen).toEqual([{ target: 'bus', error: expect.any(EventPublishTimeoutError) }]);
  });

  it('resolves even when the failure reporter itself throws', async () => {
    // Prepare
    const publisher = new DeploymentEventPublisher({
      bus: new FlakyBus(Number.POSITIVE_INFINITY),
      history: new MemoryHistory(),
      attempts: 1,
      onFailure: () => {
        throw new Error('logger broken');
      },
    });

    // Act
    const outcome = publisher.publish(EVENT);

    // Assert
    await expect(outcome).resolves.toBeUndefined();
  });
});
