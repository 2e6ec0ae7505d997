import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

/** What each adapter of the deployments table is built with. */
export interface DynamoDbTableOptions {
  client: DynamoDBClient;
  tableName: string;
  now?: () => Date;
}
