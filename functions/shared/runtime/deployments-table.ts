/**
 * The deployments table (DynamoDB), built once per Lambda container. The endpoint comes from the
 * AWS SDK's own configuration (AWS_ENDPOINT_URL_DYNAMODB locally).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDeploymentRepository } from '../adapters/dynamodb-deployment-repository.ts';
import { DynamoDbQuotaStore } from '../adapters/dynamodb-quota-store.ts';
import { requiredEnv } from './environment.ts';

let client: DynamoDBClient | undefined;
let repository: DynamoDbDeploymentRepository | undefined;
let quotas: DynamoDbQuotaStore | undefined;

export function dynamoDbClient(): DynamoDBClient {
  client ??= new DynamoDBClient({});
  return client;
}

/** The deployment records, and (same table) the sweep's claims and cursors. */
export function deploymentRepository(): DynamoDbDeploymentRepository {
  repository ??= new DynamoDbDeploymentRepository({ client: dynamoDbClient(), tableName: requiredEnv('DEPLOYMENTS_TABLE') });
  return repository;
}

/** Per-user quotas (same table). */
export function quotaStore(): DynamoDbQuotaStore {
  quotas ??= new DynamoDbQuotaStore({ client: dynamoDbClient(), tableName: requiredEnv('DEPLOYMENTS_TABLE') });
  return quotas;
}
