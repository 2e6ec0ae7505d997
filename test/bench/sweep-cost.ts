/**
 * What one sweep costs on a big table: loads N deployment records (default 100,000) of which 100
 * have expired, into dynalite with the CDK table schema, then runs the real sweep against it and
 * the local sandbox host, and prints DynamoDB requests, items read and time per phase.
 *
 *   npm run bench:sweep [-- --records 100000 --expired 100]
 */
import { BatchWriteItemCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDbDeploymentRepository } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import { DynamoDbSandboxOwnership } from '../../functions/shared/adapters/dynamodb-sandbox-ownership.ts';
import { DynamoDbSweepBookkeeping } from '../../functions/shared/adapters/dynamodb-sweep-bookkeeping.ts';
import { MemoryLogArchive } from '../support/memory-log-archive.ts';
import { DynamoDbQuotaStore } from '../../functions/shared/adapters/dynamodb-quota-store.ts';
import { S3FileStaging } from '../../functions/shared/adapters/s3-file-staging.ts';
import { SfnWorkflows } from '../../functions/shared/adapters/sfn-workflows.ts';
import { runSweep } from '../../functions/shared/deployments/sweep/run-sweep.ts';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import { routeAgentSphereToLocalHost } from '../../infra/local/agentsphere-routing.ts';
import { createTableInput, ensureTable, startLocalDynamoDb } from '../../infra/local/aws/local-dynamodb.ts';
import { startSandboxHost } from '../../infra/local/sandbox-host/sandbox-host.ts';
import { loadSynthesizedStack } from '../../infra/local/synthesized-stack.ts';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { printHeadline } from './bench-headline.ts';

const { values } = parseArgs({ options: { records: { type: 'string', default: '100000' }, expired: { type: 'string', default: '100' } } });
const total = Number(values.records);
const expired = Number(values.expired);
const TABLE = 'bench-deployments';

const synthesized = await loadSynthesizedStack();
const dynamoDb = await startLocalDynamoDb();
const client = new DynamoDBClient({ endpoint: dynamoDb.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
await ensureTable(client, createTableInput(synthesized.template, synthesized.logicalIds.deploymentsTable, TABLE));

// Count every request and the items it returned.
const requests = new Map<string, number>();
let itemsRead = 0;
client.middlewareStack.add(
  (next, context) => async (args) => {
    const result = await next(args);
    requests.set(context.commandName!, (requests.get(context.commandName!) ?? 0) + 1);
    const output = result.output as { Items?: unknown[]; Item?: unknown; Attributes?: unknown };
    itemsRead += output.Items?.length ?? (output.Item ? 1 : 0);
    return result;
  },
  { step: 'initialize', name: 'countRequests' },
);

console.log(`loading ${total} records (${expired} expired) ...`);
const loadStarted = performance.now();
const now = Date.now();
const items = function* () {
  for (let index = 0; index < total; index++) {
    const id = `bench-${String(index).padStart(7, '0')}`;
    const createdAt = new Date(now - (total - index) * 1000).toISOString();
    const isExpired = index < expired;
    yield marshall({
      pk: `DEPLOYMENT#${id}`,
      sk: 'DEPLOYMENT',
      gsi1pk: `USER#user-${index % 500}`,
      gsi1sk: `${createdAt}#${id}`,
      gsi2pk: `USER#user-${index % 500}#PROJECT#p-${index % 50}`,
      gsi2sk: `${createdAt}#${id}`,
      deploymentId: id,
      userId: `user-${index % 500}`,
      projectId: `p-${index % 50}`,
      status: isExpired ? 'RUNNING' : 'TERMINATED',
      version: 5,
      options: { port: 3000, startCommand: 'npm start', healthPath: '/health', timeoutSeconds: 3600 },
      envNames: [],
      filesTotal: 10,
      bytesTotal: 1000,
      batchesTotal: 1,
      batchProgress: { '0': 10 },
      timestamps: { PENDING: createdAt },
      createdAt,
      updatedAt: createdAt,
      ...(isExpired ? { sandboxId: `gone${index}-bench`, activePartition: 'ACTIVE', expiresAt: new Date(now - 60_000).toISOString() } : {}),
    });
  }
};
let batch: Record<string, any>[] = [];
const pending: Promise<unknown>[] = [];
for (const item of items()) {
  batch.push({ PutRequest: { Item: item } });
  if (batch.length === 25) {
    pending.push(client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: batch } })));
    batch = [];
    if (pending.length >= 16) await Promise.all(pending.splice(0));
  }
}
if (batch.length) pending.push(client.send(new BatchWriteItemCommand({ RequestItems: { [TABLE]: batch } })));
await Promise.all(pending);
console.log(`loaded in ${((performance.now() - loadStarted) / 1000).toFixed(1)} s`);
requests.clear();
itemsRead = 0;

const stateDir = await mkdtemp(join(tmpdir(), 'bench-host-'));
const host = await startSandboxHost({ stateDir });
const unroute = routeAgentSphereToLocalHost({ hostUrl: host.url, domain: host.domain });
const repository = new DynamoDbDeploymentRepository({ client, tableName: TABLE });
const table = { client, tableName: TABLE };
const sweepStarted = performance.now();
const report = await runSweep({
  deployments: repository,
  bookkeeping: new DynamoDbSweepBookkeeping(table),
  ownership: new DynamoDbSandboxOwnership(table),
  quotas: new DynamoDbQuotaStore({ client, tableName: TABLE }),
  sandboxes: new AgentSphereProvider({ apiKey: host.apiKey, domain: host.domain }),
  staging: new S3FileStaging({ client: new S3Client({}), bucket: 'unused' }),
  // Saving each expired sandbox's logs is part of the sweep's cost; they are kept in memory here.
  logArchive: new MemoryLogArchive(),
  workflows: new SfnWorkflows({ client: new SFNClient({}), stateMachineArn: 'unused' }),
});
const sweepMs = performance.now() - sweepStarted;

console.log(`\nsweep over ${total} records with ${expired} expired:`);
console.log(`  time:            ${sweepMs.toFixed(0)} ms`);
console.log(`  DynamoDB calls:  ${[...requests.values()].reduce((a, b) => a + b, 0)} (${[...requests].map(([name, count]) => `${name} ${count}`).join(', ')})`);
console.log(`  items read:      ${itemsRead}`);
console.log(`  per phase:       ${JSON.stringify(report.phases)}`);
const dynamoDbRequests = [...requests.values()].reduce((a, b) => a + b, 0);
printHeadline('sweep', { dynamoDbRequests, requestsPerExpired: expired ? dynamoDbRequests / expired : null, sweepSeconds: sweepMs / 1000 });

unroute();
await host.close();
await rm(stateDir, { recursive: true, force: true });
client.destroy();
await dynamoDb.close();
