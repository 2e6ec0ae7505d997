/**
 * Each deployment's events, kept in the deployments table next to its record: same partition
 * (`DEPLOYMENT#<id>`), sort key `EVENT#<time>#<status>`, expiring by the table's TTL. One Query
 * reads a deployment's history; no index carries these items (they have no index keys).
 */
import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { documentClientOf } from './dynamodb-table-options.ts';
import { DEPLOYMENT_STATUSES } from '../deployments/deployment-status.ts';
import type { DeploymentEvent } from '../deployments/events/deployment-event.ts';
import type { DeploymentEventHistory } from '../deployments/events/ports.ts';

/** How long a deployment's events stay readable. */
export const EVENT_HISTORY_DAYS = 30;
const EVENT_SORT_PREFIX = 'EVENT#';

export interface DynamoDbEventHistoryOptions {
  client: DynamoDBClient;
  tableName: string;
  retentionDays?: number;
  now?: () => Date;
}

export class DynamoDbEventHistory implements DeploymentEventHistory {
  readonly #documents: DynamoDBDocumentClient;
  readonly #tableName: string;
  readonly #retentionSeconds: number;
  readonly #now: () => Date;

  constructor(options: DynamoDbEventHistoryOptions) {
    this.#documents = documentClientOf(options.client);
    this.#tableName = options.tableName;
    this.#retentionSeconds = (options.retentionDays ?? EVENT_HISTORY_DAYS) * 24 * 3600;
    this.#now = options.now ?? (() => new Date());
  }

  async record(event: DeploymentEvent): Promise<void> {
    try {
      await this.#documents.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: {
            pk: deploymentPartition(event.deploymentId),
            sk: `${EVENT_SORT_PREFIX}${event.time}#${event.status}`,
            ttl: Math.floor(this.#now().getTime() / 1000) + this.#retentionSeconds,
            event,
          },
          // The first recording of an event stands; a republished one changes nothing.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async list(deploymentId: string): Promise<DeploymentEvent[]> {
    const events: DeploymentEvent[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#documents.send(
        new QueryCommand({
          TableName: this.#tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': deploymentPartition(deploymentId), ':prefix': EVENT_SORT_PREFIX },
          ConsistentRead: true,
          ExclusiveStartKey: startKey,
        }),
      );
      events.push(...(page.Items ?? []).map((item) => item.event as DeploymentEvent));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    // Two changes in one millisecond sort by the order statuses follow each other.
    return events.sort((a, b) => a.time.localeCompare(b.time) || DEPLOYMENT_STATUSES.indexOf(a.status) - DEPLOYMENT_STATUSES.indexOf(b.status));
  }
}

/** The partition of a deployment's record (DynamoDbDeploymentRepository keys it the same way). */
function deploymentPartition(deploymentId: string): string {
  return `DEPLOYMENT#${deploymentId}`;
}
