/**
 * DynamoDB on this machine: dynalite in-process (in memory, or on disk under a directory), with
 * the tables created from their definitions in the synthesized template.
 */
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { createRequire } from 'node:module';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import type { CloudFormationTemplate } from '../synthesized-stack.ts';

const require = createRequire(import.meta.url);

export interface LocalDynamoDb {
  endpoint: string;
  /** Requests served since start (or the last reset), by operation (`PutItem`, `Query`...): what a deployment costs. */
  requests(): ReadonlyMap<string, number>;
  resetRequests(): void;
  close(): Promise<void>;
}

export async function startLocalDynamoDb(options: { directory?: string } = {}): Promise<LocalDynamoDb> {
  const dynalite = require('dynalite') as (options: Record<string, unknown>) => Server;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(options.directory ? { path: options.directory } : {}) });
  const requests = new Map<string, number>();
  server.on('request', (request: IncomingMessage) => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? 'unknown';
    requests.set(operation, (requests.get(operation) ?? 0) + 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests: () => requests,
    resetRequests: () => requests.clear(),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** CreateTable input for an `AWS::DynamoDB::GlobalTable` (TableV2) or `AWS::DynamoDB::Table`. */
export function createTableInput(template: CloudFormationTemplate, logicalId: string, tableName: string): CreateTableCommandInput {
  const resource = template.Resources[logicalId];
  if (!resource?.Properties) throw new Error(`template has no table ${logicalId}`);
  const properties = resource.Properties;
  return {
    TableName: tableName,
    KeySchema: properties.KeySchema,
    AttributeDefinitions: properties.AttributeDefinitions,
    BillingMode: 'PAY_PER_REQUEST',
    ...(properties.GlobalSecondaryIndexes?.length
      ? {
          GlobalSecondaryIndexes: properties.GlobalSecondaryIndexes.map((index: Record<string, any>) => ({
            IndexName: index.IndexName,
            KeySchema: index.KeySchema,
            Projection: index.Projection ?? { ProjectionType: 'ALL' },
          })),
        }
      : {}),
  };
}

/** Creates the table unless it exists (a persisted data directory keeps tables across restarts). */
export async function ensureTable(client: DynamoDBClient, input: CreateTableCommandInput): Promise<void> {
  try {
    await client.send(new CreateTableCommand(input));
  } catch (error) {
    if ((error as Error).name !== 'ResourceInUseException') throw error;
  }
  // A new table is CREATING until a timer of dynalite's makes it ACTIVE (even with createTableMs 0):
  // a write before that, on a busy machine, fails with ResourceNotFoundException.
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.05, maxDelay: 0.5 }, { TableName: input.TableName });
}
