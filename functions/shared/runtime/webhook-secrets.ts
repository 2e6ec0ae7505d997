/** The users' webhook secrets (their own DynamoDB table, WEBHOOK_SECRETS_TABLE), built once per Lambda container. */
import { DynamoDbWebhookSecrets } from '../adapters/dynamodb-webhook-secrets.ts';
import { dynamoDbClient } from './dynamodb-client.ts';
import { requiredEnv } from './environment.ts';

let secrets: DynamoDbWebhookSecrets | undefined;

export function webhookSecrets(): DynamoDbWebhookSecrets {
  secrets ??= new DynamoDbWebhookSecrets({ client: dynamoDbClient(), tableName: requiredEnv('WEBHOOK_SECRETS_TABLE') });
  return secrets;
}
