/**
 * Deployments in one DynamoDB table (schema in the CDK stack). Every status change is a single
 * conditional UpdateItem whose condition lists the statuses that may legally precede the new one,
 * so concurrent writers (saga steps, API, sweep) can never move a record illegally. No
 * transactions: the local DynamoDB has none, and a single-item write needs none.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
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
  TransitionChanges,
} from '../deployments/ports.ts';
import { DEPLOYMENTS_TABLE_KEYS, ownerKey, ownerProjectKey, primaryKey } from './deployments-table-keys.ts';
import { decodeToken, encodeToken } from './dynamodb-page-token.ts';
import { UpdateBuilder } from './dynamodb-update-builder.ts';
import { documentClientOf, type DynamoDbTableOptions } from './dynamodb-table-options.ts';


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


export class DynamoDbDeploymentRepository implements DeploymentRepository {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #now: () => Date;

  constructor(options: DynamoDbTableOptions) {
    this.#documents = documentClientOf(options.client);
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

