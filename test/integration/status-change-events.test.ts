/**
 * Every status write publishes its "Deployment Status Changed" event: the publishing repository
 * over the real DynamoDB repository (dynalite, the table from the CDK template), the real
 * EventBridge client against the local EventBridge, and the history in the same table.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbDeploymentRepository } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import { DynamoDbEventHistory } from '../../functions/shared/adapters/dynamodb-event-history.ts';
import { EventBridgeEventBus } from '../../functions/shared/adapters/eventbridge-event-bus.ts';
import type { DeploymentEvent } from '../../functions/shared/deployments/events/deployment-event.ts';
import { DeploymentEventPublisher, type EventTarget } from '../../functions/shared/deployments/events/event-publisher.ts';
import { PublishingDeploymentRepository } from '../../functions/shared/deployments/events/publishing-deployment-repository.ts';
import type { NewDeployment } from '../../functions/shared/deployments/ports.ts';
import { createTableInput, ensureTable, startLocalDynamoDb, type LocalDynamoDb } from '../../infra/local/aws/local-dynamodb.ts';
import { startLocalEventBridge, type BusEvent, type LocalEventBridge } from '../../infra/local/aws/local-eventbridge.ts';

const TABLE_NAME = 'events-test-deployments';
const BUS_NAME = 'events-test-bus';
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

let dynamoDb: LocalDynamoDb;
let dynamoDbClient: DynamoDBClient;
let eventBridge: LocalEventBridge;
const busEvents: BusEvent[] = [];
/** Rule targets invoked, by function logical id. */
const invoked: { functionLogicalId: string; event: BusEvent }[] = [];

beforeAll(async () => {
  const { template, logicalIds } = inject('synthesizedStack');
  dynamoDb = await startLocalDynamoDb();
  dynamoDbClient = new DynamoDBClient({ endpoint: dynamoDb.endpoint, region: 'us-east-1', credentials });
  await ensureTable(dynamoDbClient, createTableInput(template, logicalIds.deploymentsTable, TABLE_NAME));
  eventBridge = await startLocalEventBridge({
    template,
    busLogicalId: logicalIds.eventBus,
    busName: BUS_NAME,
    region: 'us-east-1',
    account: '000000000000',
    invoke: async (functionLogicalId, event) => {
      invoked.push({ functionLogicalId, event });
    },
    onEvent: (event) => busEvents.push(event),
  });
});

afterAll(async () => {
  await eventBridge?.close();
  dynamoDbClient?.destroy();
  await dynamoDb?.close();
});

function history() {
  return new DynamoDbEventHistory({ client: dynamoDbClient, tableName: TABLE_NAME });
}

function publishing(busEndpoint = eventBridge.endpoint) {
  const dropped: { target: EventTarget; error: unknown }[] = [];
  const bus = new EventBridgeEventBus({
    client: new EventBridgeClient({ endpoint: busEndpoint, region: 'us-east-1', credentials, maxAttempts: 1 }),
    eventBusName: BUS_NAME,
  });
  const publisher = new DeploymentEventPublisher({ bus, history: history(), firstDelayMs: 10, onFailure: (target, _event, error) => dropped.push({ target, error }) });
  const repository = new PublishingDeploymentRepository(new DynamoDbDeploymentRepository({ client: dynamoDbClient, tableName: TABLE_NAME }), () => publisher);
  return { repository, dropped };
}

function newDeployment(overrides: Partial<NewDeployment> = {}): NewDeployment {
  return {
    deploymentId: randomUUID(),
    userId: 'user-1',
    projectId: 'hello',
    status: 'PENDING',
    options: { port: 3000, startCommand: 'node server.js', healthPath: '/health', timeoutSeconds: 3600 },
    envNames: [],
    filesTotal: 1,
    bytesTotal: 10,
    batchesTotal: 1,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

function eventsOnBus(deploymentId: string): DeploymentEvent[] {
  return busEvents.filter((event) => event.detail.deploymentId === deploymentId).map((event) => event.detail as unknown as DeploymentEvent);
}

async function eventually<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(20);
  }
}

describe('the publishing repository', () => {
  it('publishes one event per status written by create, transition and transitionFrom, each with the status before it', async () => {
    // Prepare
    const { repository } = publishing();
    const { deploymentId } = await repository.create(newDeployment());

    // Act
    await repository.transition(deploymentId, 'CREATING');
    const uploading = await repository.transition(deploymentId, 'UPLOADING', { sandboxId: 'sbx-1', expiresAt: '2030-01-01T00:00:00.000Z' });
    const stopping = await repository.transitionFrom(deploymentId, uploading, 'STOPPING', { ending: { to: 'TERMINATED' } });
    await repository.transitionFrom(deploymentId, stopping!, 'TERMINATED', { replacedBy: 'next' });

    // Assert
    expect(eventsOnBus(deploymentId).map((event) => [event.previousStatus, event.status])).toEqual([
      [null, 'PENDING'],
      ['PENDING', 'CREATING'],
      ['CREATING', 'UPLOADING'],
      ['UPLOADING', 'STOPPING'],
      ['STOPPING', 'TERMINATED'],
    ]);
    expect(eventsOnBus(deploymentId).at(-1)).toMatchObject({ sandboxId: 'sbx-1', replacedBy: 'next', userId: 'user-1', projectId: 'hello' });
  });

  it('keeps the same events, oldest first, in the deployment history', async () => {
    // Prepare
    const { repository } = publishing();
    const { deploymentId } = await repository.create(newDeployment());
    await repository.transition(deploymentId, 'CREATING');
    await repository.transition(deploymentId, 'STOPPING');
    await repository.transition(deploymentId, 'FAILED', { error: { step: 'create', name: 'SandboxCreateError', message: 'no capacity' } });

    // Act
    const kept = await history().list(deploymentId);

    // Assert
    expect(kept).toEqual(eventsOnBus(deploymentId));
    expect(kept.at(-1)).toMatchObject({ status: 'FAILED', step: 'create', error: { name: 'SandboxCreateError' } });
  });

  it('publishes nothing for writes that set no status, nor for a transitionFrom that lost its race', async () => {
    // Prepare
    const { repository } = publishing();
    const created = await repository.create(newDeployment());
    const before = eventsOnBus(created.deploymentId).length;

    // Act
    await repository.update(created.deploymentId, { executionArn: 'arn:aws:states:::execution:x:y' });
    await repository.recordBatch(created.deploymentId, 0, 1);
    const stale = await repository.transitionFrom(created.deploymentId, created, 'TERMINATED');

    // Assert
    expect(stale).toBeUndefined();
    expect(eventsOnBus(created.deploymentId).length).toBe(before);
  });

  it('publishes the same event again for a retried transition, and the history keeps it once', async () => {
    // Prepare
    const { repository } = publishing();
    const { deploymentId } = await repository.create(newDeployment());

    // Act: a step retried after its write
    await repository.transition(deploymentId, 'CREATING');
    await repository.transition(deploymentId, 'CREATING');

    // Assert
    const creating = eventsOnBus(deploymentId).filter((event) => event.status === 'CREATING');
    expect(creating.map((event) => event.eventId)).toEqual([`${deploymentId}:CREATING`, `${deploymentId}:CREATING`]);
    expect(creating[1]).toEqual(creating[0]);
    expect((await history().list(deploymentId)).map((event) => event.status)).toEqual(['PENDING', 'CREATING']);
  });

  it("routes a deployment's events to the webhook rule's target only when it has a callbackUrl", async () => {
    // Prepare
    const { repository } = publishing();
    const { template } = inject('synthesizedStack');
    const [webhookTarget] = eventBridge.rules;

    // Act
    const withHook = await repository.create(newDeployment({ callbackUrl: 'https://hooks.example.com/coderunner' }));
    const without = await repository.create(newDeployment());

    // Assert
    const targets = await eventually(
      () => invoked.filter(({ event }) => [withHook.deploymentId, without.deploymentId].includes(String(event.detail.deploymentId))),
      (found) => found.length > 0,
    );
    expect(eventBridge.rules).toHaveLength(1);
    expect(template.Resources[webhookTarget!.functionLogicalId]?.Type).toBe('AWS::Lambda::Function');
    expect(targets.map(({ functionLogicalId, event }) => [functionLogicalId, event.detail.deploymentId, event.detail.callbackUrl])).toEqual([
      [webhookTarget!.functionLogicalId, withHook.deploymentId, 'https://hooks.example.com/coderunner'],
    ]);
  });

  it('changes the status when the bus is down, and reports the event it could not publish', async () => {
    // Prepare: an endpoint that refuses every connection
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { repository, dropped } = publishing(`http://127.0.0.1:${port}`);
    const { deploymentId } = await repository.create(newDeployment());

    // Act
    const moved = await repository.transition(deploymentId, 'CREATING');

    // Assert
    expect(moved.status).toBe('CREATING');
    expect(dropped.map(({ target }) => target)).toEqual(['bus', 'bus']);
    expect((await history().list(deploymentId)).map((event) => event.status)).toEqual(['PENDING', 'CREATING']);
  });
});
