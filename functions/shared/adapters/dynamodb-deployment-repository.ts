/**
 * Deployments in one DynamoDB table (schema in the CDK stack). Every status change is a single
 * conditional UpdateItem whose condition lists the statuses that may legally precede the new one,
 * so concurrent writers (saga steps, API, sweep) can never move a record illegally. No
 * transactions: the local DynamoDB has none, and a single-item write needs none.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Deployment } from '../deployments/deployment.ts';
import { IN_FLIGHT_STATUSES, isLegalTransition, isTerminal, legalPredecessors, type DeploymentStatus } from '../deployments/deployment-status.ts';
import { DeploymentNotFoundError, IllegalTransitionError } from '../deployments/errors.ts';
import type {
  DeploymentPage,
  DeploymentRepository,
  ExpectedState,
  NewDeployment,
  OwnerQuery,
  SandboxOwnership,
  SweepBookkeeping,
  TransitionChanges,
} from '../deployments/ports.ts';

/** Index names and key attributes; the CDK stack declares the same. */
export const DEPLOYMENTS_TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  byOwnerIndex: 'byOwner',
  byOwnerProjectIndex: 'byOwnerProject',
  activeByExpiryIndex: 'activeByExpiry',
  inFlightIndex: 'inFlight',
  activeByOwnerIndex: 'activeByOwner',
  timeToLive: 'ttl',
} as const;

const RECORD_SORT_KEY = 'DEPLOYMENT';
/** Present only while a sandbox may be alive: the active-by-expiry index is sparse. */
const ACTIVE_PARTITION = 'ACTIVE';
/** Present only while the saga works on the record: the in-flight index is sparse too. */
const IN_FLIGHT_PARTITION = 'IN_FLIGHT';
interface PageOptions {
  limit?: number;
  nextToken?: string;
}

/** Pages one filtered listing reads at most before answering with a token. */
const MAX_FILTERED_PAGES = 10;
const KEY_ATTRIBUTES = ['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'activePartition', 'activeOwner', 'inFlightPartition', 'stepStartedAt'];
/** Ownership items outlive their sandbox by this much (for the sweep and for support), then expire. */
const OWNERSHIP_RETENTION_SECONDS = 7 * 24 * 3600;

export interface DynamoDbDeploymentRepositoryOptions {
  client: DynamoDBClient;
  tableName: string;
  now?: () => Date;
}

export class DynamoDbDeploymentRepository implements DeploymentRepository, SweepBookkeeping, SandboxOwnership {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #now: () => Date;

  constructor(options: DynamoDbDeploymentRepositoryOptions) {
    this.#documents = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
    this.#tableName = options.tableName;
    this.#now = options.now ?? (() => new Date());
  }

  async create(deployment: NewDeployment): Promise<Deployment> {
    const now = this.#now().toISOString();
    const record: Deployment = {
      ...deployment,
      version: 1,
      batchProgress: {},
      timestamps: { [deployment.status]: now },
      updatedAt: now,
    };
    await this.#documents.send(
      new PutCommand({
        TableName: this.#tableName,
        Item: {
          ...keysOf(record),
          ...inFlightKeys(record.status, now),
          ...(record.sandboxId ? activeKeys(record.userId) : {}),
          ...record,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return record;
  }

  async get(deploymentId: string): Promise<Deployment | undefined> {
    const { Item } = await this.#documents.send(
      new GetCommand({ TableName: this.#tableName, Key: primaryKey(deploymentId), ConsistentRead: true }),
    );
    return Item ? toDeployment(Item) : undefined;
  }

  async transition(deploymentId: string, to: DeploymentStatus, changes: TransitionChanges = {}): Promise<Deployment> {
    const update = this.#statusUpdate(to, changes, await this.#ownerOfRecord(deploymentId, changes));
    const predecessors = legalPredecessors(to);
    const allowed = predecessors.map((status, index) => update.value(`from${index}`, status));
    try {
      const { Attributes } = await this.#documents.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: primaryKey(deploymentId),
          ...update.build(`attribute_exists(pk) AND #status IN (${allowed.join(', ')})`),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toDeployment(Attributes!);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const current = await this.get(deploymentId);
      if (!current) throw new DeploymentNotFoundError(deploymentId);
      // A retried step finds its own earlier write: that is success, not a conflict.
      if (current.status === to) return current;
      throw new IllegalTransitionError(deploymentId, current.status, to);
    }
  }

  async transitionFrom(deploymentId: string, expected: ExpectedState, to: DeploymentStatus, changes: TransitionChanges = {}): Promise<Deployment | undefined> {
    if (!isLegalTransition(expected.status, to)) return undefined;
    const update = this.#statusUpdate(to, changes, await this.#ownerOfRecord(deploymentId, changes));
    const condition = `#status = ${update.value('expectedStatus', expected.status)} AND #version = ${update.value('expectedVersion', expected.version)}`;
    try {
      const { Attributes } = await this.#documents.send(
        new UpdateCommand({ TableName: this.#tableName, Key: primaryKey(deploymentId), ...update.build(condition), ReturnValues: 'ALL_NEW' }),
      );
      return toDeployment(Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  /** The record's owner, needed only when a write starts naming a sandbox (for the active-by-owner index). */
  async #ownerOfRecord(deploymentId: string, changes: TransitionChanges): Promise<string | undefined> {
    if (!changes.sandboxId) return undefined;
    return (await this.get(deploymentId))?.userId;
  }

  #statusUpdate(to: DeploymentStatus, changes: TransitionChanges, userId: string | undefined): UpdateBuilder {
    const now = this.#now().toISOString();
    const update = new UpdateBuilder(now);
    update.set('status', to);
    update.setNested('timestamps', to, now);
    applyChanges(update, changes, to, userId);
    if (IN_FLIGHT_STATUSES.has(to)) {
      // Back in flight (a RUNNING deployment being stopped): the sweep's stuck phase must see it again.
      update.set('inFlightPartition', IN_FLIGHT_PARTITION);
      update.set('stepStartedAt', now);
    } else {
      update.remove('inFlightPartition');
      update.remove('stepStartedAt');
    }
    return update;
  }

  async update(deploymentId: string, changes: TransitionChanges): Promise<Deployment> {
    const update = new UpdateBuilder(this.#now().toISOString());
    applyChanges(update, changes, undefined, await this.#ownerOfRecord(deploymentId, changes));
    try {
      const { Attributes } = await this.#documents.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: primaryKey(deploymentId),
          ...update.build('attribute_exists(pk)'),
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toDeployment(Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new DeploymentNotFoundError(deploymentId);
      throw error;
    }
  }

  async recordBatch(deploymentId: string, index: number, files: number): Promise<void> {
    const update = new UpdateBuilder(this.#now().toISOString());
    update.setNested('batchProgress', String(index), files);
    try {
      await this.#documents.send(
        new UpdateCommand({ TableName: this.#tableName, Key: primaryKey(deploymentId), ...update.build('attribute_exists(pk)') }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new DeploymentNotFoundError(deploymentId);
      throw error;
    }
  }

  async listByOwner(userId: string, options: OwnerQuery = {}): Promise<DeploymentPage> {
    const byProject = options.projectId !== undefined;
    const ownerValue = byProject ? ownerProjectKey(userId, options.projectId!) : ownerKey(userId);
    const limit = options.limit ?? 50;
    const statuses = options.statuses ?? [];
    const filter = statuses.length
      ? {
          FilterExpression: `#status IN (${statuses.map((_, index) => `:status${index}`).join(', ')})`,
          ExpressionAttributeNames: { '#status': 'status' },
        }
      : {};
    const statusValues = Object.fromEntries(statuses.map((status, index) => [`:status${index}`, status]));
    // A filter applies after the page is read: keep reading until the page is full (bounded).
    const items: Deployment[] = [];
    let nextToken = options.nextToken;
    for (let pages = 0; pages < MAX_FILTERED_PAGES && items.length < limit; pages++) {
      const page = await this.#query({
        IndexName: byProject ? DEPLOYMENTS_TABLE_KEYS.byOwnerProjectIndex : DEPLOYMENTS_TABLE_KEYS.byOwnerIndex,
        KeyConditionExpression: byProject ? 'gsi2pk = :owner' : 'gsi1pk = :owner',
        ...filter,
        ExpressionAttributeValues: { ':owner': ownerValue, ...statusValues },
        ScanIndexForward: false,
        Limit: limit - items.length,
        ExclusiveStartKey: decodeToken(nextToken, byProject ? { gsi2pk: ownerValue } : { gsi1pk: ownerValue }),
      });
      items.push(...page.items);
      nextToken = page.nextToken;
      if (!nextToken) break;
    }
    return { items, ...(nextToken ? { nextToken } : {}) };
  }

  async listActiveByOwner(userId: string, options: Omit<OwnerQuery, 'statuses'> = {}): Promise<DeploymentPage> {
    const owner = ownerKey(userId);
    const project = options.projectId;
    // A caller has few live sandboxes (a quota bounds them): filtering by project here is cheap.
    return this.#query({
      IndexName: DEPLOYMENTS_TABLE_KEYS.activeByOwnerIndex,
      KeyConditionExpression: 'activeOwner = :owner',
      ...(project !== undefined ? { FilterExpression: 'projectId = :project' } : {}),
      ExpressionAttributeValues: { ':owner': owner, ...(project !== undefined ? { ':project': project } : {}) },
      ScanIndexForward: false,
      Limit: options.limit ?? 50,
      ExclusiveStartKey: decodeToken(options.nextToken, { activeOwner: owner }),
    });
  }

  async ownerOf(sandboxId: string): Promise<string | undefined> {
    const { Item } = await this.#documents.send(
      new GetCommand({ TableName: this.#tableName, Key: ownershipKey(sandboxId), ConsistentRead: true }),
    );
    return typeof Item?.owner === 'string' ? Item.owner : undefined;
  }

  async recordOwner(sandboxId: string, deploymentId: string, expiresAt: string): Promise<void> {
    const ttl = Math.floor(new Date(expiresAt).getTime() / 1000) + OWNERSHIP_RETENTION_SECONDS;
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { ...ownershipKey(sandboxId), owner: deploymentId, creator: deploymentId, ttl },
          ConditionExpression: 'attribute_not_exists(pk) OR #owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': deploymentId },
        }),
      );
    } catch (error) {
      // Owned already (a redeploy took it over): the creator does not take it back.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async handOver(sandboxId: string, from: string, to: string): Promise<boolean> {
    try {
      await this.#documents.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: ownershipKey(sandboxId),
          UpdateExpression: 'SET #owner = :to, previousOwner = :from',
          // A sandbox without an item is its creator's: the first redeploy writes the item.
          ConditionExpression: 'attribute_not_exists(pk) OR #owner = :from',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':from': from, ':to': to },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async listActiveExpiringBefore(before: Date, options: PageOptions = {}): Promise<DeploymentPage> {
    return this.#sparseIndexBefore(DEPLOYMENTS_TABLE_KEYS.activeByExpiryIndex, 'activePartition', ACTIVE_PARTITION, 'expiresAt', before, options);
  }

  async listInFlightSince(before: Date, options: PageOptions = {}): Promise<DeploymentPage> {
    return this.#sparseIndexBefore(DEPLOYMENTS_TABLE_KEYS.inFlightIndex, 'inFlightPartition', IN_FLIGHT_PARTITION, 'stepStartedAt', before, options);
  }

  /** Oldest first, the items of a sparse index whose sort key (an ISO time) is before `before`. */
  #sparseIndexBefore(indexName: string, partitionKey: string, partition: string, sortKey: string, before: Date, options: PageOptions) {
    return this.#query({
      IndexName: indexName,
      KeyConditionExpression: `${partitionKey} = :partition AND ${sortKey} < :before`,
      ExpressionAttributeValues: { ':partition': partition, ':before': before.toISOString() },
      ScanIndexForward: true,
      Limit: options.limit ?? 100,
      ExclusiveStartKey: decodeToken(options.nextToken, { [partitionKey]: partition }),
    });
  }

  async claim(name: string, ttlSeconds: number): Promise<boolean> {
    const now = Math.floor(this.#now().getTime() / 1000);
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { pk: `CLAIM#${name}`, sk: 'CLAIM', ttl: now + ttlSeconds },
          // DynamoDB deletes expired items late (up to days): the condition decides, not TTL.
          ConditionExpression: 'attribute_not_exists(pk) OR #ttl < :now',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':now': now },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async getCursor(name: string): Promise<string | undefined> {
    const { Item } = await this.#documents.send(
      new GetCommand({ TableName: this.#tableName, Key: { pk: `CURSOR#${name}`, sk: 'CURSOR' }, ConsistentRead: true }),
    );
    return typeof Item?.cursor === 'string' ? Item.cursor : undefined;
  }

  async putCursor(name: string, cursor: string | undefined): Promise<void> {
    await this.#documents.send(
      new PutCommand({ TableName: this.#tableName, Item: { pk: `CURSOR#${name}`, sk: 'CURSOR', ...(cursor ? { cursor } : {}) } }),
    );
  }

  async #query(input: Omit<ConstructorParameters<typeof QueryCommand>[0], 'TableName'>): Promise<DeploymentPage> {
    const { Items = [], LastEvaluatedKey } = await this.#documents.send(new QueryCommand({ TableName: this.#tableName, ...input }));
    return { items: Items.map(toDeployment), ...(LastEvaluatedKey ? { nextToken: encodeToken(LastEvaluatedKey) } : {}) };
  }
}

function applyChanges(update: UpdateBuilder, changes: TransitionChanges, to?: DeploymentStatus, userId?: string): void {
  for (const [name, value] of Object.entries(changes)) if (value !== undefined) update.set(name, value);
  if (to && isTerminal(to)) {
    update.remove('activePartition');
    update.remove('activeOwner');
  } else if (changes.sandboxId) {
    update.set('activePartition', ACTIVE_PARTITION);
    if (userId) update.set('activeOwner', ownerKey(userId));
  }
}

/** Sparse keys of a record with a live sandbox: the sweep's expiry index and its owner's live list. */
function activeKeys(userId: string) {
  return { activePartition: ACTIVE_PARTITION, activeOwner: ownerKey(userId) };
}

function ownershipKey(sandboxId: string) {
  return { pk: `SANDBOX#${sandboxId}`, sk: 'OWNER' };
}

/** Collects SET/REMOVE clauses with placeholder names and values; always bumps the version. */
class UpdateBuilder {
  readonly #sets: string[] = [];
  readonly #removes: string[] = [];
  readonly #names: Record<string, string> = { '#status': 'status', '#version': 'version', '#updatedAt': 'updatedAt' };
  readonly #values: Record<string, unknown> = { ':one': 1 };

  constructor(now: string) {
    this.#sets.push('#version = #version + :one', '#updatedAt = :updatedAt');
    this.#values[':updatedAt'] = now;
  }

  value(name: string, value: unknown): string {
    this.#values[`:${name}`] = value;
    return `:${name}`;
  }

  set(attribute: string, value: unknown): void {
    this.#names[`#${attribute}`] = attribute;
    this.#sets.push(`#${attribute} = ${this.value(attribute, value)}`);
  }

  setNested(map: string, key: string, value: unknown): void {
    const keyName = `#${map}_${key.replace(/\W/g, '_')}`;
    this.#names[`#${map}`] = map;
    this.#names[keyName] = key;
    this.#sets.push(`#${map}.${keyName} = ${this.value(`${map}_${key.replace(/\W/g, '_')}`, value)}`);
  }

  remove(attribute: string): void {
    this.#names[`#${attribute}`] = attribute;
    this.#removes.push(`#${attribute}`);
  }

  build(condition: string) {
    const expression = [`SET ${this.#sets.join(', ')}`, this.#removes.length ? `REMOVE ${this.#removes.join(', ')}` : ''].join(' ').trim();
    const usedNames = Object.fromEntries(
      Object.entries(this.#names).filter(([placeholder]) => expression.includes(placeholder) || condition.includes(placeholder)),
    );
    return {
      UpdateExpression: expression,
      ConditionExpression: condition,
      ExpressionAttributeNames: usedNames,
      ExpressionAttributeValues: this.#values,
    };
  }
}

function primaryKey(deploymentId: string) {
  return { pk: `DEPLOYMENT#${deploymentId}`, sk: RECORD_SORT_KEY };
}

function ownerKey(userId: string): string {
  return `USER#${userId}`;
}

function ownerProjectKey(userId: string, projectId: string): string {
  return `USER#${userId}#PROJECT#${projectId}`;
}

function keysOf(deployment: Deployment) {
  const sortKey = `${deployment.createdAt}#${deployment.deploymentId}`;
  return {
    ...primaryKey(deployment.deploymentId),
    gsi1pk: ownerKey(deployment.userId),
    gsi1sk: sortKey,
    gsi2pk: ownerProjectKey(deployment.userId, deployment.projectId),
    gsi2sk: sortKey,
  };
}

function inFlightKeys(status: DeploymentStatus, now: string) {
  return IN_FLIGHT_STATUSES.has(status) ? { inFlightPartition: IN_FLIGHT_PARTITION, stepStartedAt: now } : {};
}

function toDeployment(item: Record<string, unknown>): Deployment {
  const record = { ...item };
  for (const key of KEY_ATTRIBUTES) delete record[key];
  return record as unknown as Deployment;
}

function encodeToken(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** A page token this query issued: it must belong to the same index partition (e.g. the same caller). */
function decodeToken(token: string | undefined, partition: Record<string, string>): Record<string, unknown> | undefined {
  if (!token) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidPageTokenError();
  }
  const valid =
    typeof key === 'object' &&
    key !== null &&
    typeof (key as Record<string, unknown>).pk === 'string' &&
    Object.entries(partition).every(([name, value]) => (key as Record<string, unknown>)[name] === value);
  if (!valid) throw new InvalidPageTokenError();
  return key as Record<string, unknown>;
}

export class InvalidPageTokenError extends Error {
  constructor() {
    super('nextToken is not a token this API issued');
    this.name = 'InvalidPageTokenError';
  }
}
