/**
 * Per-user quotas in the deployments table, with single-item conditional writes only (DynamoDB
 * transactions are not needed, and the local DynamoDB has none):
 * - a counted quota (live sandboxes, deployments in flight) is `limit` slot items
 *   `QUOTA#<user>` / `SLOT#<quota>#<n>`: taking one is a put if it does not exist, giving it back
 *   a delete if the holder is still the one giving it back (idempotent);
 * - starts per minute are one counter item per user and minute, added to only below the limit;
 * - a user's own limits are one item `QUOTA#<user>` / `LIMITS`, written by an operator.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { documentClientOf } from './dynamodb-table-options.ts';
import type { HeldSlot, QuotaStore } from '../deployments/ports.ts';
import type { QuotaLimits, SlotQuota } from '../deployments/quotas/quota-limits.ts';

export interface DynamoDbQuotaStoreOptions {
  client: DynamoDBClient;
  tableName: string;
  now?: () => Date;
}

/** Minute counters are kept a little longer than their minute, then expire. */
const RATE_TTL_SECONDS = 300;
const LIMIT_FIELDS: readonly (keyof QuotaLimits)[] = ['liveSandboxes', 'deploymentsInFlight', 'deploymentsPerMinute', 'maxSandboxLifetimeSeconds'];

export class DynamoDbQuotaStore implements QuotaStore {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #now: () => Date;

  constructor(options: DynamoDbQuotaStoreOptions) {
    this.#documents = documentClientOf(options.client);
    this.#tableName = options.tableName;
    this.#now = options.now ?? (() => new Date());
  }

  async limitsOverride(userId: string): Promise<Partial<QuotaLimits> | undefined> {
    const { Item } = await this.#documents.send(new GetCommand({ TableName: this.#tableName, Key: { pk: partition(userId), sk: 'LIMITS' }, ConsistentRead: true }));
    if (!Item) return undefined;
    return Object.fromEntries(LIMIT_FIELDS.filter((field) => typeof Item[field] === 'number').map((field) => [field, Item[field] as number]));
  }

  async takeSlot(userId: string, quota: SlotQuota, limit: number, holder: string): Promise<number | undefined> {
    // Start at a random slot: parallel requests then rarely contend for the same item.
    const offset = limit > 0 ? Math.floor(Math.random() * limit) : 0;
    for (let step = 0; step < limit; step++) {
      const slot = (offset + step) % limit;
      try {
        await this.#documents.send(
          new PutCommand({
            TableName: this.#tableName,
            Item: { pk: partition(userId), sk: slotKey(quota, slot), quota, slot, holder, heldAt: this.#now().toISOString() },
            ConditionExpression: 'attribute_not_exists(pk) OR holder = :holder',
            ExpressionAttributeValues: { ':holder': holder },
          }),
        );
        return slot;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return undefined;
  }

  async releaseSlot(userId: string, quota: SlotQuota, slot: number, holder: string): Promise<void> {
    try {
      await this.#documents.send(
        new DeleteCommand({
          TableName: this.#tableName,
          Key: { pk: partition(userId), sk: slotKey(quota, slot) },
          ConditionExpression: 'holder = :holder',
          ExpressionAttributeValues: { ':holder': holder },
        }),
      );
    } catch (error) {
      // Given back already, or held by someone else since: nothing of ours to release.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async transferSlot(userId: string, quota: SlotQuota, slot: number, from: string, to: string): Promise<boolean> {
    try {
      await this.#documents.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { pk: partition(userId), sk: slotKey(quota, slot) },
          UpdateExpression: 'SET holder = :to, heldAt = :now',
          ConditionExpression: 'holder = :from',
          ExpressionAttributeValues: { ':from': from, ':to': to, ':now': this.#now().toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async heldSlots(userId: string, quota?: SlotQuota): Promise<HeldSlot[]> {
    const { Items = [] } = await this.#documents.send(
      new QueryCommand({
        TableName: this.#tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': partition(userId), ':prefix': quota ? `SLOT#${quota}#` : 'SLOT#' },
        ConsistentRead: true,
      }),
    );
    return Items.map((item) => ({ quota: item.quota as SlotQuota, slot: item.slot as number, holder: item.holder as string, heldAt: item.heldAt as string }));
  }

  async countStart(userId: string, minute: string, limit: number): Promise<{ counted: boolean; count: number }> {
    // A limit of 0 counts nothing, not even a minute's first start (the condition lets a first one in).
    if (limit <= 0) return { counted: false, count: await this.startsIn(userId, minute) };
    const ttl = Math.floor(this.#now().getTime() / 1000) + RATE_TTL_SECONDS;
    try {
      const { Attributes } = await this.#documents.send(
        new UpdateCommand({
          TableName: this.#tableName,
          Key: { pk: partition(userId), sk: rateKey(minute) },
          UpdateExpression: 'ADD #count :one SET #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#count) OR #count < :limit',
          ExpressionAttributeNames: { '#count': 'count', '#ttl': 'ttl' },
          ExpressionAttributeValues: { ':one': 1, ':limit': limit, ':ttl': ttl },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { counted: true, count: Attributes!.count as number };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { counted: false, count: await this.startsIn(userId, minute) };
      throw error;
    }
  }

  async startsIn(userId: string, minute: string): Promise<number> {
    const { Item } = await this.#documents.send(new GetCommand({ TableName: this.#tableName, Key: { pk: partition(userId), sk: rateKey(minute) }, ConsistentRead: true }));
    return typeof Item?.count === 'number' ? Item.count : 0;
  }
}

function partition(userId: string): string {
  return `QUOTA#${userId}`;
}

function slotKey(quota: SlotQuota, slot: number): string {
  return `SLOT#${quota}#${String(slot).padStart(4, '0')}`;
}

function rateKey(minute: string): string {
  return `RATE#${minute}`;
}
