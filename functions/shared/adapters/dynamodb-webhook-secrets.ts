/**
 * Webhook secrets in the deployments table, one item per user (`USER#<userId>` / `WEBHOOK_SECRET`):
 * encrypted at rest with the table, reachable only by the roles granted `USER#*` items (a
 * dynamodb:LeadingKeys condition in the stack), one conditional write per change.
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { WebhookSecret, WebhookSecrets } from '../webhooks/webhook-secret.ts';

/** The partition prefix of per-user items; the stack scopes the webhook roles to it. */
export const USER_PARTITION_PREFIX = 'USER#';
const SECRET_SORT_KEY = 'WEBHOOK_SECRET';

export interface DynamoDbWebhookSecretsOptions {
  client: DynamoDBClient;
  tableName: string;
}

export class DynamoDbWebhookSecrets implements WebhookSecrets {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;

  constructor(options: DynamoDbWebhookSecretsOptions) {
    this.#documents = DynamoDBDocumentClient.from(options.client, { marshallOptions: { removeUndefinedValues: true } });
    this.#tableName = options.tableName;
  }

  async get(userId: string): Promise<WebhookSecret | undefined> {
    const { Item } = await this.#documents.send(new GetCommand({ TableName: this.#tableName, Key: keyOf(userId), ConsistentRead: true }));
    return Item ? toSecret(Item) : undefined;
  }

  async createIfAbsent(userId: string, secret: WebhookSecret): Promise<WebhookSecret> {
    try {
      await this.#documents.send(
        new PutCommand({ TableName: this.#tableName, Item: { ...keyOf(userId), ...secret }, ConditionExpression: 'attribute_not_exists(pk)' }),
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
  return { pk: `${USER_PARTITION_PREFIX}${userId}`, sk: SECRET_SORT_KEY };
}

function toSecret(item: Record<string, unknown>): WebhookSecret {
  const { secret, createdAt, previous } = item as unknown as WebhookSecret;
  return { secret, createdAt, ...(previous ? { previous } : {}) };
}
