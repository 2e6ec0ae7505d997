/**
 * Which deployment owns each sandbox: one item per sandbox in the deployments table, changed
 * only by conditional writes, so a sandbox changes hands exactly once per redeploy however many
 * requests race for it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SandboxOwnership } from '../deployments/ports.ts';
import { ownershipKey } from './deployments-table-keys.ts';
import { documentClientOf, type DynamoDbTableOptions } from './dynamodb-table-options.ts';

/** Ownership items outlive their sandbox by this much (for the sweep and for support), then expire. */
const OWNERSHIP_RETENTION_SECONDS = 7 * 24 * 3600;

export class DynamoDbSandboxOwnership implements SandboxOwnership {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: DynamoDbTableOptions) {
    this.#documents = documentClientOf(options.client);
    this.#tableName = options.tableName;
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
}
