/**
 * The one place every status write goes through: a DeploymentRepository that publishes a
 * "Deployment Status Changed" event after each write that set a status (create, transition,
 * transitionFrom when it wrote). Domain code keeps using the port; the composition root wraps
 * the real repository with this, so the API, the saga steps, the kill step, DELETE, the sweep, the
 * status-change handler and the redeploy hand-over all publish without knowing it.
 */
import type { Deployment } from '../deployment.ts';
import type { DeploymentStatus } from '../deployment-status.ts';
import type { DeploymentRepository, ExpectedState, NewDeployment, OwnerQuery, TransitionChanges } from '../ports.ts';
import { statusChangeEvent } from './deployment-event.ts';
import type { EventRouting } from './ports.ts';

/** What the decorator hands its events to; it must never reject (DeploymentEventPublisher). */
export interface StatusChangePublisher {
  publish(event: ReturnType<typeof statusChangeEvent>, routing: EventRouting): Promise<void>;
}

export class PublishingDeploymentRepository implements DeploymentRepository {
  readonly #repository: DeploymentRepository;
  readonly #publisher: () => StatusChangePublisher;
  readonly #onError: (error: unknown) => void;

  /**
   * `publisher` is built on the first status change (read-only handlers never build it);
   * `onError` hears of a publisher that could not even be built.
   */
  constructor(repository: DeploymentRepository, publisher: () => StatusChangePublisher, onError: (error: unknown) => void = () => undefined) {
    this.#repository = repository;
    this.#publisher = publisher;
    this.#onError = onError;
  }

  async create(deployment: NewDeployment): Promise<Deployment> {
    const created = await this.#repository.create(deployment);
    await this.#published(created, null);
    return created;
  }

  async transition(deploymentId: string, to: DeploymentStatus, changes?: TransitionChanges): Promise<Deployment> {
    // A retried step gets the record back without a write: it publishes the same event again,
    // which covers a publish lost to a crash right after the write.
    const moved = await this.#repository.transition(deploymentId, to, changes);
    await this.#published(moved);
    return moved;
  }

  async transitionFrom(deploymentId: string, expected: ExpectedState, to: DeploymentStatus, changes?: TransitionChanges): Promise<Deployment | undefined> {
    const moved = await this.#repository.transitionFrom(deploymentId, expected, to, changes);
    if (moved) await this.#published(moved, expected.status);
    return moved;
  }

  get(deploymentId: string): Promise<Deployment | undefined> {
    return this.#repository.get(deploymentId);
  }

  update(deploymentId: string, changes: TransitionChanges): Promise<Deployment> {
    return this.#repository.update(deploymentId, changes);
  }

  recordBatch(deploymentId: string, index: number, files: number): Promise<void> {
    return this.#repository.recordBatch(deploymentId, index, files);
  }

  listByOwner(userId: string, options?: OwnerQuery) {
    return this.#repository.listByOwner(userId, options);
  }

  listActiveByOwner(userId: string, options?: Omit<OwnerQuery, 'statuses'>) {
    return this.#repository.listActiveByOwner(userId, options);
  }

  listActiveExpiringBefore(before: Date, options?: { limit?: number; nextToken?: string }) {
    return this.#repository.listActiveExpiringBefore(before, options);
  }

  listInFlightSince(before: Date, options?: { limit?: number; nextToken?: string }) {
    return this.#repository.listInFlightSince(before, options);
  }

  async #published(deployment: Deployment, previousStatus?: DeploymentStatus | null): Promise<void> {
    const routing = deployment.callbackUrl ? { callbackUrl: deployment.callbackUrl } : {};
    try {
      await this.#publisher().publish(statusChangeEvent(deployment, previousStatus), routing);
    } catch (error) {
      // The status change is written; its event must never undo or fail it.
      this.#onError(error);
    }
  }
}
