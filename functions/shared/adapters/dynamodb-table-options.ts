import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** What each adapter of the deployments table is built with. */
export interface DynamoDbTableOptions {
  client: DynamoDBClient;
  tableName: string;
  now?: () => Date;
}

/** The document client every DynamoDB adapter uses: optional fields left out are not written as nulls. */
export function documentClientOf(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
