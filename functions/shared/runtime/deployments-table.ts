/**
 * The deployments table (DynamoDB), built once per Lambda container. The endpoint comes from the
 * AWS SDK's own configuration (AWS_ENDPOINT_URL_DYNAMODB locally).
 *
 * Every status written through `deploymentRepository()` also publishes its "Deployment Status
 * Changed" event (the bus and the deployment's history), so no status path can forget to.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDbDeploymentRepository } from '../adapters/dynamodb-deployment-repository.ts';
import { DynamoDbSandboxOwnership } from '../adapters/dynamodb-sandbox-ownership.ts';
import { DynamoDbSweepBookkeeping } from '../adapters/dynamodb-sweep-bookkeeping.ts';
import { DynamoDbQuotaStore } from '../adapters/dynamodb-quota-store.ts';
import { DynamoDbEventHistory } from '../adapters/dynamodb-event-history.ts';
import { DeploymentEventPublisher, type EventTarget } from '../deployments/events/event-publisher.ts';
import type { DeploymentEvent } from '../deployments/events/deployment-event.ts';
import { PublishingDeploymentRepository } from '../deployments/events/publishing-deployment-repository.ts';
import type { DeploymentRepository, SandboxOwnership, SweepBookkeeping } from '../deployments/ports.ts';
import { dynamoDbClient } from './dynamodb-client.ts';
import { deploymentEventBus } from './event-bus.ts';
import { requiredEnv } from './environment.ts';
import { logger, METRIC, metrics } from './observability.ts';

let table: DynamoDbDeploymentRepository | undefined;
let repository: PublishingDeploymentRepository | undefined;
let history: DynamoDbEventHistory | undefined;
let publisher: DeploymentEventPublisher | undefined;
let quotas: DynamoDbQuotaStore | undefined;
let ownership: DynamoDbSandboxOwnership | undefined;
let bookkeeping: DynamoDbSweepBookkeeping | undefined;

// Kept here too: handlers import the client from this module.
export { dynamoDbClient };

function deploymentsTable(): DynamoDbDeploymentRepository {
  table ??= new DynamoDbDeploymentRepository({ client: dynamoDbClient(), tableName: requiredEnv('DEPLOYMENTS_TABLE') });
  return table;
}

/** The deployment records; each status change publishes its event. */
export function deploymentRepository(): DeploymentRepository {
  repository ??= new PublishingDeploymentRepository(deploymentsTable(), eventPublisher, (error) =>
    logger.error('deployment events cannot be published', { error: error as Error }),
  );
  return repository;
}

/** The sweep's claims and cursors (same table). */
export function sweepBookkeeping(): SweepBookkeeping {
  bookkeeping ??= new DynamoDbSweepBookkeeping({ client: dynamoDbClient(), tableName: requiredEnv('DEPLOYMENTS_TABLE') });
  return bookkeeping;
}

/** Which deployment owns each sandbox (same table). */
export function sandboxOwnership(): SandboxOwnership {
  ownership ??= new DynamoDbSandboxOwnership({ client: dynamoDbClient(), tableName: requiredEnv('DEPLOYMENTS_TABLE') });
  return ownership;
}

/** Per-user quotas (same table). */
export function quotaStore(): DynamoDbQuotaStore {
  quotas ??= new DynamoDbQuotaStore({ client: dynamoDbClient(), tableName: requiredEnv('DEPLOYMENTS_TABLE') });
  return quotas;
}

/** Each deployment's events (same table). */
export function eventHistory(): DynamoDbEventHistory {
  history ??= new DynamoDbEventHistory({ client: dynamoDbClient(), tableName: requiredEnv('DEPLOYMENTS_TABLE') });
  return history;
}

function eventPublisher(): DeploymentEventPublisher {
  publisher ??= new DeploymentEventPublisher({ bus: deploymentEventBus(), history: eventHistory(), onFailure: reportDroppedEvent });
  return publisher;
}

/** A status change whose event a target did not take: logged and counted, never thrown. */
function reportDroppedEvent(target: EventTarget, event: DeploymentEvent, error: unknown): void {
  logger.error('deployment event not published', { target, eventId: event.eventId, status: event.status, error: error as Error });
  // Flushed at once: not every handler that changes a status flushes metrics itself.
  const metric = metrics.singleMetric();
  metric.addDimension('target', target);
  metric.addMetric(METRIC.deploymentEventsDropped, MetricUnit.Count, 1);
}
