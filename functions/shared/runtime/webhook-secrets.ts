/** The users' webhook secrets (in the deployments table), built once per Lambda container. */
import { DynamoDbWebhookSecrets } from '../adapters/dynamodb-webhook-secrets.ts';
import { dynamoDbClient } from './deployments-table.ts';
import { requiredEnv } from './environment.ts';

let secrets: DynamoDbWebhookSecrets | undefined;

export function webhookSecrets(): DynamoDbWebhookSecrets {
  secrets ??= new DynamoDbWebhookSecrets({ client: dynamoDbClient(), tableName: requiredEnv('DEPLOYMENTS_TABLE') });
  return secrets;
}
