/**
 * The one DynamoDB client of a Lambda container, shared by every table's adapter. The endpoint
 * comes from the AWS SDK's own configuration (AWS_ENDPOINT_URL_DYNAMODB locally).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

let client: DynamoDBClient | undefined;

export function dynamoDbClient(): DynamoDBClient {
  client ??= new DynamoDBClient({});
  return client;
}
