/**
 * Webhook secrets in their own DynamoDB table, one item per user: encrypted at rest, readable
 * only by the roles that sign webhooks or show the secret to its owner, one conditional write
 * per change.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { documentClientOf } from './dynamodb-table-options.ts';
import type { WebhookSecret, WebhookSecrets } from '../webhooks/webhook-secret.ts';

/** The table's partition key; the CDK stack declares the same. */
export const WEBHOOK_SECRETS_KEY = 'userId';

export interface DynamoDbWebhookSecretsOptions {
  client: DynamoDBClient;
  tableName: string;
}

export class DynamoDbWebhookSecrets implements WebhookSecrets {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: DynamoDbWebhookSecretsOptions) {
    this.#documents = documentClientOf(options.client);
    this.#tableName = options.tableName;
  }

  async get(userId: string): Promise<WebhookSecret | undefined> {
    const { Item } = await this.#documents.send(new GetCommand({ TableName: this.#tableName, Key: keyOf(userId), ConsistentRead: true }));
    return Item ? toSecret(Item) : undefined;
  }

  async createIfAbsent(userId: string, secret: WebhookSecret): Promise<WebhookSecret> {
    try {
      await this.#documents.send(
        new PutCommand({ TableName: this.#tableName, Item: { ...keyOf(userId), ...secret }, ConditionExpression: 'attribute_not_exists(#key)', ExpressionAttributeNames: { '#key': WEBHOOK_SECRETS_KEY } }),
      );
      return secret;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Another first use won: its secret is the user's.
      return (await this.get(userId))!;
    }
  }

  async replace(userId: string, current: WebhookSecret, next: WebhookSecret): Promise<boolean> {
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: { ...keyOf(userId), ...next },
          ConditionExpression: '#secret = :current',
          ExpressionAttributeNames: { '#secret': 'secret' },
          ExpressionAttributeValues: { ':current': current.secret },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

function keyOf(userId: string) {
  return { [WEBHOOK_SECRETS_KEY]: userId };
}

function toSecret(item: Record<string, unknown>): WebhookSecret {
  const { secret, createdAt, previous } = item as unknown as WebhookSecret;
  return { secret, createdAt, ...(previous ? { previous } : {}) };
}
