/**
 * The invariant every end-to-end test file ends with: the sandboxes alive at the provider are
 * exactly the sandboxes of active records: no sandbox without an active record, no active record
 * without a sandbox, and no record left in a saga step.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { DynamoDbDeploymentRepository } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import { MANAGED_BY } from '../../functions/shared/deployments/app-layout.ts';
import type { Deployment } from '../../functions/shared/deployments/deployment.ts';
import type { LocalStack } from '../../infra/local/local-stack.ts';

async function allPages(read: (nextToken?: string) => Promise<{ items: Deployment[]; nextToken?: string }>): Promise<Deployment[]> {
  const items: Deployment[] = [];
  let nextToken: string | undefined;
  do {
    const page = await read(nextToken);
    items.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  return items;
}

export async function liveAndActiveSandboxes(stack: LocalStack): Promise<{ live: string[]; active: string[]; inFlight: string[] }> {
  const client = new DynamoDBClient({});
  try {
    const repository = new DynamoDbDeploymentRepository({ client, tableName: process.env.DEPLOYMENTS_TABLE! });
    const active = await allPages((nextToken) => repository.listActiveExpiringBefore(new Date('9999-12-31'), { nextToken }));
    const inFlight = await allPages((nextToken) => repository.listInFlightSince(new Date('9999-12-31'), { nextToken }));
    const live = (stack.sandboxHost?.registry.list() ?? []).filter((sandbox) => sandbox.metadata.managedBy === MANAGED_BY);
    return {
      live: live.map((sandbox) => sandbox.fullId).sort(),
      active: active.map((deployment) => deployment.sandboxId!).sort(),
      inFlight: inFlight.map((deployment) => `${deployment.deploymentId} ${deployment.status}`),
    };
  } finally {
    client.destroy();
  }
}

export async function expectNoLeaks(stack: LocalStack): Promise<void> {
  const { live, active, inFlight } = await liveAndActiveSandboxes(stack);
  expect(live, 'live sandboxes at the provider vs sandboxes of active records').toEqual(active);
  expect(inFlight, 'records still in a saga step').toEqual([]);
}
