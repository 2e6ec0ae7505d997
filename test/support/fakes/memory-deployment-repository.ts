/**
 * The deployment repository in memory, with the DynamoDB adapter's semantics (the contract test
 * runs the same suite against both):
 * - a status change succeeds only from a legal predecessor; a retried change to the status the
 *   record already has answers the record unchanged; otherwise IllegalTransitionError;
 * - transitionFrom acts only on the exact status and version it expects;
 * - every write bumps the version and `updatedAt`; a status change stamps `timestamps[status]`;
 * - recordBatch sets one index (idempotent per index);
 * - three sparse listings: active-by-expiry (a sandbox id was recorded and the record is not
 *   terminal, soonest expiry first), active-by-owner (the same records, per user, newest first,
 *   the project filter applied after a page is read) and in-flight (in a saga step or STOPPING,
 *   oldest step first); like the adapter, a status change to an in-flight status restamps the
 *   step but does not put a record back into the in-flight listing once RUNNING took it out
 *   (RUNNING -> STOPPING is not listed: a bug the contract test names, kept here so the unit
 *   tests see what production does);
 * - owner listings newest first, with the adapter's status filter over at most 10 read pages;
 * - pages end with a nextToken when a read page was full, and tokens only work for the listing
 *   (and partition) that issued them.
 * Records go in and out as copies, as they would through DynamoDB.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { decodeToken, encodeToken } from '../../../functions/shared/adapters/dynamodb-page-token.ts';
import type { Deployment } from '../../../functions/shared/deployments/deployment.ts';
import { IN_FLIGHT_STATUSES, isLegalTransition, isTerminal, legalPredecessors, type DeploymentStatus } from '../../../functions/shared/deployments/deployment-status.ts';
import { DeploymentNotFoundError, IllegalTransitionError } from '../../../functions/shared/deployments/errors.ts';
import type { DeploymentPage, DeploymentRepository, ExpectedState, NewDeployment, OwnerQuery, TransitionChanges } from '../../../functions/shared/deployments/ports.ts';
import { CallControl, type CallControlOptions } from './call-control.ts';

export type RepositoryMethod =
  | 'create'
  | 'get'
  | 'transition'
  | 'transitionFrom'
  | 'update'
  | 'recordBatch'
  | 'listByOwner'
  | 'listActiveByOwner'
  | 'listActiveExpiringBefore'
  | 'listInFlightSince';

/** Called inside every write, after it took effect: what a reader would see at that moment. */
export type RecordChangeListener = (change: { before: Deployment | undefined; after: Deployment; method: RepositoryMethod }) => void;

export interface MemoryDeploymentRepositoryOptions extends CallControlOptions {
  now?: () => Date;
}

/** A stored item: the record and the key attributes the adapter keeps beside it. */
interface Item {
  record: Deployment;
  /** The adapter's activePartition and activeOwner: set and removed together. */
  activePartition: boolean;
  inFlightPartition: boolean;
  stepStartedAt?: string;
}

/** An index row's keys, as DynamoDB returns them in LastEvaluatedKey. */
type IndexKey = Record<string, string>;

const MAX_FILTERED_PAGES = 10;

export class MemoryDeploymentRepository implements DeploymentRepository {
  readonly control: CallControl<RepositoryMethod>;
  readonly #items = new Map<string, Item>();
  readonly #now: () => Date;
  readonly #listeners: RecordChangeListener[] = [];

  constructor(options: MemoryDeploymentRepositoryOptions = {}) {
    this.control = new CallControl('deployments', options);
    this.#now = options.now ?? (() => new Date());
  }

  /** Observes every write as it happens. */
  onChange(listener: RecordChangeListener): void {
    this.#listeners.push(listener);
  }

  /** Every record, for assertions (copies). */
  all(): Deployment[] {
    return [...this.#items.values()].map((item) => copy(item.record));
  }

  create(deployment: NewDeployment): Promise<Deployment> {
    return this.control.call('create', [deployment], () => {
      if (this.#items.has(deployment.deploymentId)) {
        throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      }
      const now = this.#now().toISOString();
      const record: Deployment = { ...deployment, version: 1, batchProgress: {}, timestamps: { [deployment.status]: now }, updatedAt: now };
      const inFlight = IN_FLIGHT_STATUSES.has(record.status);
      this.#store('create', undefined, {
        record: copy(record),
        // Created with a sandbox: in the active listings from the start (as the adapter writes it).
        activePartition: Boolean(record.sandboxId),
        inFlightPartition: inFlight,
        ...(inFlight ? { stepStartedAt: now } : {}),
      });
      return record;
    });
  }

  get(deploymentId: string): Promise<Deployment | undefined> {
    return this.control.call('get', [deploymentId], () => {
      const item = this.#items.get(deploymentId);
      return item ? copy(item.record) : undefined;
    });
  }

  transition(deploymentId: string, to: DeploymentStatus, changes: TransitionChanges = {}): Promise<Deployment> {
    return this.control.call('transition', [deploymentId, to, changes], () => {
      const item = this.#items.get(deploymentId);
      if (!item) throw new DeploymentNotFoundError(deploymentId);
      if (legalPredecessors(to).includes(item.record.status)) return this.#changeStatus('transition', item, to, changes);
      // A retried step finds its own earlier write: that is success, not a conflict.
      if (item.record.status === to) return copy(item.record);
      throw new IllegalTransitionError(deploymentId, item.record.status, to);
    });
  }

  transitionFrom(deploymentId: string, expected: ExpectedState, to: DeploymentStatus, changes: TransitionChanges = {}): Promise<Deployment | undefined> {
    return this.control.call('transitionFrom', [deploymentId, expected, to, changes], () => {
      if (!isLegalTransition(expected.status, to)) return undefined;
      const item = this.#items.get(deploymentId);
      if (!item || item.record.status !== expected.status || item.record.version !== expected.version) return undefined;
      return this.#changeStatus('transitionFrom', item, to, changes);
    });
  }

  update(deploymentId: string, changes: TransitionChanges): Promise<Deployment> {
    return this.control.call('update', [deploymentId, changes], () => {
      const item = this.#items.get(deploymentId);
      if (!item) throw new DeploymentNotFoundError(deploymentId);
      const next = this.#written(item);
      applyChanges(next, changes);
      return copy(this.#store('update', item.record, next).record);
    });
  }

  recordBatch(deploymentId: string, index: number, files: number): Promise<void> {
    return this.control.call('recordBatch', [deploymentId, index, files], () => {
      const item = this.#items.get(deploymentId);
      if (!item) throw new DeploymentNotFoundError(deploymentId);
      const next = this.#written(item);
      next.record.batchProgress = { ...next.record.batchProgress, [String(index)]: files };
      this.#store('recordBatch', item.record, next);
    });
  }

  listByOwner(userId: string, options: OwnerQuery = {}): Promise<DeploymentPage> {
    return this.control.call('listByOwner', [userId, options], () => {
      const byProject = options.projectId !== undefined;
      const [partitionKey, sortKey] = byProject ? ['gsi2pk', 'gsi2sk'] : ['gsi1pk', 'gsi1sk'];
      const partition = byProject ? ownerProjectKey(userId, options.projectId!) : ownerKey(userId);
      const limit = options.limit ?? 50;
      const statuses = options.statuses ?? [];
      const rows = this.#rows((item) => indexKeysOf(item)[partitionKey] === partition, partitionKey, sortKey, 'descending');
      // A filter applies after the page is read: keep reading until the page is full (bounded).
      const items: Deployment[] = [];
      let nextToken = options.nextToken;
      for (let pages = 0; pages < MAX_FILTERED_PAGES && items.length < limit; pages++) {
        const page = readPage(rows, pageStart(nextToken, { [partitionKey]: partition }), limit - items.length, 'descending', sortKey);
        items.push(...page.items.filter((record) => statuses.length === 0 || statuses.includes(record.status)));
        nextToken = page.nextToken;
        if (!nextToken) break;
      }
      return { items, ...(nextToken ? { nextToken } : {}) };
    });
  }

  listActiveByOwner(userId: string, options: Omit<OwnerQuery, 'statuses'> = {}): Promise<DeploymentPage> {
    return this.control.call('listActiveByOwner', [userId, options], () => {
      const partition = ownerKey(userId);
      const rows = this.#rows((item) => item.activePartition && item.record.userId === userId, 'activeOwner', 'gsi1sk', 'descending', partition);
      // One read page, filtered after it was read (as a DynamoDB FilterExpression is).
      const page = readPage(rows, pageStart(options.nextToken, { activeOwner: partition }), options.limit ?? 50, 'descending', 'gsi1sk');
      const items = page.items.filter((record) => options.projectId === undefined || record.projectId === options.projectId);
      return { items, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
    });
  }

  listActiveExpiringBefore(before: Date, options: { limit?: number; nextToken?: string } = {}): Promise<DeploymentPage> {
    return this.control.call('listActiveExpiringBefore', [before, options], () =>
      this.#sparseIndexBefore('activePartition', 'ACTIVE', 'expiresAt', (item) => item.activePartition ? item.record.expiresAt : undefined, before, options),
    );
  }

  listInFlightSince(before: Date, options: { limit?: number; nextToken?: string } = {}): Promise<DeploymentPage> {
    return this.control.call('listInFlightSince', [before, options], () =>
      this.#sparseIndexBefore('inFlightPartition', 'IN_FLIGHT', 'stepStartedAt', (item) => item.inFlightPartition ? item.stepStartedAt : undefined, before, options),
    );
  }

  /** Oldest first, the rows of a sparse index whose sort key (an ISO time) is before `before`. */
  #sparseIndexBefore(
    partitionKey: string,
    partition: string,
    sortKey: string,
    sortValue: (item: Item) => string | undefined,
    before: Date,
    options: { limit?: number; nextToken?: string },
  ): DeploymentPage {
    const limit = options.limit ?? 100;
    const cutoff = before.toISOString();
    const rows = [...this.#items.values()]
      .map((item) => ({ item, value: sortValue(item) }))
      // Sparse: an item is in the index only while it has both of the index's key attributes.
      .filter((row): row is { item: Item; value: string } => row.value !== undefined && row.value < cutoff)
      .map(({ item, value }) => ({ record: item.record, key: { ...primaryKey(item.record.deploymentId), [partitionKey]: partition, [sortKey]: value } }))
      .sort((a, b) => compareRows(a.key, b.key, sortKey));
    return readPage(rows, pageStart(options.nextToken, { [partitionKey]: partition }), limit, 'ascending', sortKey);
  }

  #rows(belongs: (item: Item) => boolean, partitionKey: string, sortKey: string, order: 'ascending' | 'descending', partition?: string): Row[] {
    const rows = [...this.#items.values()].filter(belongs).map((item) => {
      const keys = indexKeysOf(item);
      return { record: item.record, key: { ...primaryKey(item.record.deploymentId), [partitionKey]: partition ?? keys[partitionKey]!, [sortKey]: keys[sortKey]! } };
    });
    rows.sort((a, b) => compareRows(a.key, b.key, sortKey));
    return order === 'ascending' ? rows : rows.reverse();
  }

  #changeStatus(method: RepositoryMethod, item: Item, to: DeploymentStatus, changes: TransitionChanges): Deployment {
    const next = this.#written(item);
    const now = next.record.updatedAt;
    next.record.status = to;
    next.record.timestamps = { ...next.record.timestamps, [to]: now };
    applyChanges(next, changes, to);
    if (IN_FLIGHT_STATUSES.has(to)) {
      next.inFlightPartition = true;
      next.stepStartedAt = now;
    } else {
      next.inFlightPartition = false;
      delete next.stepStartedAt;
    }
    return copy(this.#store(method, item.record, next).record);
  }

  /** A copy of the item as every write leaves it: version bumped, updatedAt now. */
  #written(item: Item): Item {
    const next: Item = { ...item, record: copy(item.record) };
    next.record.version += 1;
    next.record.updatedAt = this.#now().toISOString();
    return next;
  }

  #store(method: RepositoryMethod, before: Deployment | undefined, item: Item): Item {
    const stored: Item = { ...item, record: copy(item.record) };
    this.#items.set(stored.record.deploymentId, stored);
    for (const listener of this.#listeners) listener({ before: before && copy(before), after: copy(stored.record), method });
    return stored;
  }
}

interface Row {
  record: Deployment;
  key: IndexKey;
}

/** Up to `limit` rows after the start key; a nextToken when the page was filled (as DynamoDB: it does not look ahead). */
function readPage(rows: readonly Row[], start: IndexKey | undefined, limit: number, order: 'ascending' | 'descending', sortKey: string): DeploymentPage {
  const after = start ? rows.filter((row) => (order === 'ascending' ? compareRows(row.key, start, sortKey) > 0 : compareRows(row.key, start, sortKey) < 0)) : rows;
  const page = after.slice(0, limit);
  const last = page.at(-1);
  const full = page.length === limit && last !== undefined;
  return { items: page.map((row) => copy(row.record)), ...(full ? { nextToken: encodeToken(last.key) } : {}) };
}

/** By the index's sort key, then the table's key (ties keep one stable order). */
function compareRows(a: IndexKey, b: IndexKey, sortKey: string): number {
  return compareText(a[sortKey] ?? '', b[sortKey] ?? '') || compareText(a.pk ?? '', b.pk ?? '');
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function applyChanges(item: Item, changes: TransitionChanges, to?: DeploymentStatus): void {
  for (const [name, value] of Object.entries(changes)) if (value !== undefined) (item.record as unknown as Record<string, unknown>)[name] = copy(value);
  if (to && isTerminal(to)) item.activePartition = false;
  else if (changes.sandboxId) item.activePartition = true;
}

function primaryKey(deploymentId: string): IndexKey {
  return { pk: `DEPLOYMENT#${deploymentId}`, sk: 'DEPLOYMENT' };
}

function ownerKey(userId: string): string {
  return `USER#${userId}`;
}

function ownerProjectKey(userId: string, projectId: string): string {
  return `USER#${userId}#PROJECT#${projectId}`;
}

/** Where a page starts: the adapter's own token check, so a token is refused here exactly as there. */
function pageStart(token: string | undefined, partition: IndexKey): IndexKey | undefined {
  return decodeToken(token, partition) as IndexKey | undefined;
}

function indexKeysOf({ record }: Item): IndexKey {
  const sortKey = `${record.createdAt}#${record.deploymentId}`;
  return { gsi1pk: ownerKey(record.userId), gsi1sk: sortKey, gsi2pk: ownerProjectKey(record.userId, record.projectId), gsi2sk: sortKey };
}


/** What a round trip through DynamoDB leaves of a value: no undefined attributes, no shared objects. */
function copy<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
