/**
 * A redeploy hands the live sandbox over in one conditional write, its commit point. Whatever
 * step the API dies at, the sandbox is never killed for the wrong reason: before the hand-over
 * it and its app stay the previous deployment's (a sweep or a DELETE of the new deployment leaves
 * them alone); after it, the new deployment owns it and ending that deployment ends it.
 *
 * A crash is a process that stops: every port call from the crash point on fails, the submit's own
 * error handling included. The "restart" then uses fresh, working ports.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeploymentRepository } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import { DynamoDbSandboxOwnership } from '../../functions/shared/adapters/dynamodb-sandbox-ownership.ts';
import { DynamoDbSweepBookkeeping } from '../../functions/shared/adapters/dynamodb-sweep-bookkeeping.ts';
import { S3FileStaging } from '../../functions/shared/adapters/s3-file-staging.ts';
import { DynamoDbQuotaStore } from '../../functions/shared/adapters/dynamodb-quota-store.ts';
import type { DeploymentDependencies } from '../../functions/shared/deployments/dependencies.ts';
import { deploymentRequestSchema } from '../../functions/shared/deployments/deployment-request.ts';
import { submitDeployment } from '../../functions/shared/deployments/requests/submit-deployment.ts';
import { terminateDeployment } from '../../functions/shared/deployments/requests/terminate-deployment.ts';
import { runSweep } from '../../functions/shared/deployments/sweep/run-sweep.ts';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import { startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { MemoryLogArchive } from '../support/memory-log-archive.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles } from '../support/project-files.ts';

let fixture: StackFixture;
let working: Omit<DeploymentDependencies, 'dependencyCache'> & { bookkeeping: DynamoDbSweepBookkeeping };

beforeAll(async () => {
  fixture = await startStackFixture({ environment: { SWEEP_ORPHAN_GRACE_SECONDS: '0' } });
  const repository = new DynamoDbDeploymentRepository({ client: new DynamoDBClient({}), tableName: process.env.DEPLOYMENTS_TABLE! });
  const host = fixture.stack.sandboxHost!;
  working = {
    deployments: repository,
    ownership: new DynamoDbSandboxOwnership({ client: new DynamoDBClient({}), tableName: process.env.DEPLOYMENTS_TABLE! }),
    bookkeeping: new DynamoDbSweepBookkeeping({ client: new DynamoDBClient({}), tableName: process.env.DEPLOYMENTS_TABLE! }),
    quotas: new DynamoDbQuotaStore({ client: new DynamoDBClient({}), tableName: process.env.DEPLOYMENTS_TABLE! }),
    sandboxes: new AgentSphereProvider({ apiKey: host.apiKey, domain: host.sdkDomain, appUrlScheme: 'http' }),
    staging: new S3FileStaging({ client: new S3Client({ forcePathStyle: true }), bucket: process.env.STAGING_BUCKET! }),
    logArchive: new MemoryLogArchive(),
    workflows: { start: async () => 'arn:aws:states:us-east-1:000000000000:execution:none:none', status: async () => 'NOT_FOUND' },
  };
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

/** The ports of a process that dies at its `callNumber`-th port call (1-based) and stays dead. */
function dyingAt(callNumber: number): { dependencies: Omit<DeploymentDependencies, 'dependencyCache'>; calls: string[] } {
  const calls: string[] = [];
  const wrap = <Port extends object>(name: string, port: Port): Port =>
    new Proxy(port, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.push(`${name}.${String(property)}`);
          if (calls.length >= callNumber) return Promise.reject(new Error(`the API process died at ${name}.${String(property)}`));
          return (value as (...items: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return {
    calls,
    dependencies: {
      deployments: wrap('deployments', working.deployments),
      ownership: wrap('ownership', working.ownership),
      quotas: wrap('quotas', working.quotas),
      sandboxes: wrap('sandboxes', working.sandboxes),
      staging: wrap('staging', working.staging),
      logArchive: wrap('logArchive', working.logArchive),
      workflows: wrap('workflows', working.workflows),
    },
  };
}

async function runningDeployment(userId: string): Promise<{ deploymentId: string; sandboxId: string; url: string }> {
  const api = await fixture.apiAs(userId);
  const accepted = await api.deploy({ projectId: 'handover', files: await projectFiles('hello-node'), options: { startCommand: 'node server.js' } });
  const running = await api.waitForStatus(accepted.body.deploymentId, ['RUNNING']);
  return { deploymentId: running.deploymentId, sandboxId: running.sandboxId, url: running.url };
}

async function redeployRequest(sandboxId: string) {
  return deploymentRequestSchema().parse({
    projectId: 'handover',
    files: await projectFiles('hello-v2'),
    sandboxId,
    options: { startCommand: 'node server.js' },
  });
}

/** Whether the previous app still answers at its url. */
async function answers(url: string): Promise<boolean> {
  const response = await fetch(url).catch(() => undefined);
  return response?.status === 200;
}

/** The submit's port calls, in order, for a redeploy that goes through (to know where to crash). */
async function submitCalls(): Promise<string[]> {
  const userId = `calls-${randomUUID()}`;
  const previous = await runningDeployment(userId);
  const { dependencies, calls } = dyingAt(Number.POSITIVE_INFINITY);
  const deployment = await submitDeployment(dependencies, { userId, request: await redeployRequest(previous.sandboxId) });
  await terminateDeployment(working, userId, deployment.deploymentId);
  return calls;
}

describe('a redeploy whose API process dies', () => {
  it('keeps the previous app running whenever it dies before the hand-over, even after a sweep and a DELETE of the new deployment', { timeout: 120_000 }, async () => {
    const calls = await submitCalls();
    const handOver = calls.indexOf('ownership.handOver') + 1;
    expect(handOver).toBeGreaterThan(1);

    for (let crashAt = 1; crashAt <= handOver; crashAt++) {
      // Prepare
      const userId = `before-${crashAt}-${randomUUID()}`;
      const previous = await runningDeployment(userId);
      const { dependencies } = dyingAt(crashAt);

      // Act: the submit dies; then the stack, restarted, sweeps and the user deletes what is left
      await expect(submitDeployment(dependencies, { userId, request: await redeployRequest(previous.sandboxId) })).rejects.toThrow(/died/);
      await runSweep(working, { inFlightGraceSeconds: 0, orphanGraceSeconds: 0 });
      const { items } = await working.deployments.listByOwner(userId);
      for (const record of items.filter((item) => item.deploymentId !== previous.deploymentId)) {
        await terminateDeployment(working, userId, record.deploymentId);
      }

      // Assert
      expect(await working.sandboxes.isAlive(previous.sandboxId), `crash at call ${crashAt} (${calls[crashAt - 1]})`).toBe(true);
      expect(await answers(previous.url), `crash at call ${crashAt} (${calls[crashAt - 1]})`).toBe(true);
      expect((await working.deployments.get(previous.deploymentId))?.status).toBe('RUNNING');
      await terminateDeployment(working, userId, previous.deploymentId);
    }
  });

  it('leaves the sandbox to the new deployment once handed over: ending that deployment ends it', { timeout: 120_000 }, async () => {
    const calls = await submitCalls();
    const afterHandOver = calls.indexOf('ownership.handOver') + 2;

    for (let crashAt = afterHandOver; crashAt <= calls.length; crashAt++) {
      // Prepare
      const userId = `after-${crashAt}-${randomUUID()}`;
      const previous = await runningDeployment(userId);
      const { dependencies } = dyingAt(crashAt);

      // Act
      await expect(submitDeployment(dependencies, { userId, request: await redeployRequest(previous.sandboxId) })).rejects.toThrow(/died/);
      const { items } = await working.deployments.listByOwner(userId);
      const redeploy = items.find((item) => item.deploymentId !== previous.deploymentId)!;
      const ownerBeforeEnd = await working.ownership.ownerOf(previous.sandboxId);
      await terminateDeployment(working, userId, redeploy.deploymentId);

      // Assert
      expect(ownerBeforeEnd, `crash at call ${crashAt} (${calls[crashAt - 1]})`).toBe(redeploy.deploymentId);
      expect(await working.sandboxes.isAlive(previous.sandboxId), `crash at call ${crashAt} (${calls[crashAt - 1]})`).toBe(false);
      await terminateDeployment(working, userId, previous.deploymentId);
    }
  });
});
