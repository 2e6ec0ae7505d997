/**
 * Publishes a deployment event to the bus and records it in the deployment's history, without
 * ever failing or holding up the status change that caused it: each target is retried briefly
 * within a small time budget, and what still fails is reported (logged and counted by the
 * composition root) and dropped. The status change itself is already written: the record stays
 * the truth, and a retried step publishes the same event (same eventId) again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { DeploymentEvent } from './deployment-event.ts';
import type { DeploymentEventBus, DeploymentEventHistory, EventRouting } from './ports.ts';

export type EventTarget = 'bus' | 'history';

export interface EventPublisherOptions {
  bus: DeploymentEventBus;
  history: DeploymentEventHistory;
  /** Tries per target (default 3). */
  attempts?: number;
  /** Pause before the second try; it doubles for each next one (default 100 ms). */
  firstDelayMs?: number;
  /** The longest a status change waits for its event, all targets and tries together (default 2 s). */
  budgetMs?: number;
  /** Told about each target that did not take the event. */
  onFailure?: (target: EventTarget, event: DeploymentEvent, error: unknown) => void;
}

const DEFAULTS = { attempts: 3, firstDelayMs: 100, budgetMs: 2_000 };

export class EventPublishTimeoutError extends Error {
  constructor(budgetMs: number) {
    super(`the event was not taken within ${budgetMs} ms`);
    this.name = 'EventPublishTimeoutError';
  }
}

export class DeploymentEventPublisher {
  readonly #options: EventPublisherOptions & typeof DEFAULTS;

  constructor(options: EventPublisherOptions) {
    this.#options = { ...DEFAULTS, ...options };
  }

  /** Never rejects. */
  async publish(event: DeploymentEvent, routing: EventRouting = {}): Promise<void> {
    const { bus, history } = this.#options;
    const deadline = Date.now() + this.#options.budgetMs;
    await Promise.all([
      this.#deliver('bus', event, deadline, () => bus.publish(event, routing)),
      this.#deliver('history', event, deadline, () => history.record(event)),
    ]);
  }

  async #deliver(target: EventTarget, event: DeploymentEvent, deadline: number, send: () => Promise<void>): Promise<void> {
    try {
      await withinDeadline(this.#retried(send, deadline), deadline, this.#options.budgetMs);
    } catch (error) {
      try {
        this.#options.onFailure?.(target, event, error);
      } catch {
        // A failing reporter must not fail the status change either.
      }
    }
  }

  async #retried(send: () => Promise<void>, deadline: number): Promise<void> {
    let delay = this.#options.firstDelayMs;
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (attempt >= this.#options.attempts || Date.now() + delay >= deadline) throw error;
        await sleep(delay);
        delay *= 2;
      }
    }
  }
}

async function withinDeadline<T>(work: Promise<T>, deadline: number, budgetMs: number): Promise<T> {
  const controller = new AbortController();
  const timeout = sleep(Math.max(0, deadline - Date.now()), undefined, { signal: controller.signal }).then(() => {
    throw new EventPublishTimeoutError(budgetMs);
  });
  // The losing side must not surface later as an unhandled rejection.
  work.catch(() => undefined);
  timeout.catch(() => undefined);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    controller.abort();
  }
}
