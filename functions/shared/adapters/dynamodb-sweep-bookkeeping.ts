/**
 * The sweep's own records in the deployments table: claims (so two concurrent sweeps never act
 * on the same item twice) and cursors (so a long table is covered over several runs).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SweepBookkeeping } from '../deployments/ports.ts';
import { documentClientOf, type DynamoDbTableOptions } from './dynamodb-table-options.ts';

export class DynamoDbSweepBookkeeping implements SweepBookkeeping {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #now: () => Date;

  constructor(options: DynamoDbTableOptions) {
    this.#documents = documentClientOf(options.client);
    this.#tableName = options.tableName;
    this.#now = options.now ?? (() => new Date());
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
}
