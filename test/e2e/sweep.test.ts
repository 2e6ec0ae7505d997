/**
 * The sweep and the status-change kill with every local component real: what the saga's
 * Catch cannot cover still ends with no leaked sandbox and no stuck deployment.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeploymentRepository } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import { MANAGED_BY } from '../../functions/shared/deployments/app-layout.ts';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import { createLambdaContext } from '../../infra/local/lambda-context.ts';
import type { SweepReport } from '../../functions/shared/deployments/sweep/sweep-report.ts';
import { liveSandboxesOf, sandboxesLeftBy, startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles } from '../support/project-files.ts';

let fixture: StackFixture;
let repository: DynamoDbDeploymentRepository;
let provider: AgentSphereProvider;
/** Imported once the stack has set the handlers' environment. */
let sweepHandler: (typeof import('../../functions/handlers/sweep.ts'))['handler'];
/** Upload batches of these deployments wait until released (to act mid-upload). */
const heldUploads = new Map<string, Promise<void>>();

beforeAll(async () => {
  fixture = await startStackFixture({
    environment: { SWEEP_ORPHAN_GRACE_SECONDS: '0' },
    wrapHandler: (name, handler) =>
      name !== 'uploadBatch'
        ? handler
        : async (event, context) => {
            await heldUploads.get((event as { deploymentId: string }).deploymentId);
            return handler(event, context);
          },
  });
  ({ handler: sweepHandler } = await import('../../functions/handlers/sweep.ts'));
  repository = new DynamoDbDeploymentRepository({ client: new DynamoDBClient({}), tableName: process.env.DEPLOYMENTS_TABLE! });
  provider = new AgentSphereProvider({ apiKey: fixture.stack.sandboxHost!.apiKey, domain: fixture.stack.sandboxHost!.domain });
});

afterEach(() => {
  fixture.stack.sandboxHost!.faults.clear();
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

async function deployRunning(projectId = 'sweep'): Promise<any> {
  const accepted = await fixture.api.deploy({
    projectId,
    files: await projectFiles('hello-node'),
    options: { port: 3000, startCommand: 'node server.js', timeoutSeconds: 600 },
  });
  return fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING']);
}

/** The sweep handler itself, invoked like the schedule does (several may run at once). */
function invokeSweep(): Promise<SweepReport> {
  const context = createLambdaContext({ functionName: 'sweep', invokedFunctionArn: 'arn:aws:lambda:local:0:function:sweep', timeoutMs: 120_000 });
  return sweepHandler({}, context);
}

describe('the sweep', () => {
  it('reaps a deployment past its expiry and leaves one not yet expired alone', async () => {
    // Prepare: two running deployments; the first one's expiry has passed
    const expiring = await deployRunning();
    const fresh = await deployRunning();
    await repository.update(expiring.deploymentId, { expiresAt: new Date(Date.now() - 1_000).toISOString() });

    // Act
    const report = await fixture.stack.sweep();

    // Assert
    expect(report.phases.expired).toMatchObject({ marked: 1, killed: 1, errors: 0 });
    expect((await fixture.api.get(expiring.deploymentId)).body.status).toBe('EXPIRED');
    expect(liveSandboxesOf(fixture.stack, expiring.deploymentId)).toEqual([]);
    expect((await fixture.api.get(fresh.deploymentId)).body.status).toBe('RUNNING');
    expect(liveSandboxesOf(fixture.stack, fresh.deploymentId)).toHaveLength(1);
    await fixture.api.delete(fresh.deploymentId);
  });

  it('marks a RUNNING deployment LOST when its sandbox was killed behind our back', async () => {
    // Prepare
    const running = await deployRunning();
    await fixture.stack.sandboxHost!.registry.kill(running.sandboxId);

    // Act
    const report = await fixture.stack.sweep();

    // Assert
    expect(report.phases.lost.marked).toBe(1);
    expect((await fixture.api.get(running.deploymentId)).body).toMatchObject({
      status: 'LOST',
      error: { step: 'sweep', name: 'SandboxLostError' },
    });
  });

  it('kills an orphan that carries our metadata and never touches a sandbox without it', async () => {
    // Prepare
    const orphan = await provider.create({
      metadata: { userId: 'u', projectId: 'p', deploymentId: 'no-such-deployment', managedBy: MANAGED_BY },
      lifetimeSeconds: 300,
    });
    const foreign = await provider.create({ metadata: { userId: 'u', projectId: 'p', deploymentId: 'someone-elses' }, lifetimeSeconds: 300 });

    // Act
    const report = await fixture.stack.sweep();

    // Assert
    expect(report.phases.orphans.killed).toBe(1);
    expect(await provider.isAlive(orphan.sandboxId)).toBe(false);
    expect(await provider.isAlive(foreign.sandboxId)).toBe(true);
    await foreign.kill();
  });

  it('kills nothing twice and nothing wrongly when two sweeps race each other and a deployment in its create step', async () => {
    // Prepare: two orphans, one expired deployment, and a deployment whose sandbox exists while
    // the create step has not recorded it yet (the provider holds its answer)
    const orphans = await Promise.all(
      [1, 2].map((index) =>
        provider.create({ metadata: { userId: 'u', projectId: 'p', deploymentId: `gone-${index}`, managedBy: MANAGED_BY }, lifetimeSeconds: 300 }),
      ),
    );
    const expiring = await deployRunning();
    await repository.update(expiring.deploymentId, { expiresAt: new Date(Date.now() - 1_000).toISOString() });
    fixture.stack.sandboxHost!.faults.add({ target: 'control-plane', method: 'POST', pathIncludes: '/sandboxes', delayMs: 2_500, times: 1 });
    const creating = await fixture.api.deploy({
      projectId: 'racing',
      files: await projectFiles('hello-node'),
      options: { port: 3000, startCommand: 'node server.js' },
    });
    await waitUntil(() => liveSandboxesOf(fixture.stack, creating.body.deploymentId).length === 1);
    expect((await fixture.api.get(creating.body.deploymentId)).body.sandboxId).toBeNull();

    // Act
    const reports = await Promise.all([invokeSweep(), invokeSweep()]);

    // Assert
    const sum = (pick: (report: SweepReport) => number) => reports.reduce((total, report) => total + pick(report), 0);
    expect(sum((report) => report.phases.orphans.killed)).toBe(2);
    expect(sum((report) => report.phases.expired.marked)).toBe(1);
    expect(sum((report) => report.phases.expired.killed)).toBe(1);
    expect(sum((report) => report.totals.errors)).toBe(0);
    for (const orphan of orphans) expect(await provider.isAlive(orphan.sandboxId)).toBe(false);
    const racing = await fixture.api.waitForStatus(creating.body.deploymentId, ['RUNNING', 'FAILED']);
    expect(racing.status).toBe('RUNNING');
    expect(liveSandboxesOf(fixture.stack, creating.body.deploymentId)).toEqual([racing.sandboxId]);
    await fixture.api.delete(creating.body.deploymentId);
  });
});

describe('uncatchable failures', () => {
  it('kills the sandbox and records FAILED when an execution is aborted mid-upload', async () => {
    // Prepare: the upload waits until released
    let release!: () => void;
    const accepted = await fixture.api.deploy({
      projectId: 'aborted',
      files: await projectFiles('hello-node'),
      options: { port: 3000, startCommand: 'node server.js' },
    });
    heldUploads.set(accepted.body.deploymentId, new Promise<void>((resolve) => (release = resolve)));
    await fixture.api.waitForStatus(accepted.body.deploymentId, ['UPLOADING']);
    await waitUntil(() => liveSandboxesOf(fixture.stack, accepted.body.deploymentId).length === 1);
    const [execution] = fixture.stack.stepFunctions.listExecutions().filter((item) => item.name === accepted.body.deploymentId);

    // Act: no Catch runs for an aborted execution; only the status-change path can clean up
    fixture.stack.stepFunctions.stopExecution(execution!.executionArn!, { error: 'OperatorAbort', cause: 'stopped by an operator' });
    const failed = await fixture.api.waitForStatus(accepted.body.deploymentId, ['FAILED']);
    release();

    // Assert
    expect(fixture.stack.stepFunctions.describeExecution(execution!.executionArn!).status).toBe('ABORTED');
    expect(failed.error).toMatchObject({ step: 'upload', name: 'OperatorAbort', message: 'stopped by an operator' });
    expect(await sandboxesLeftBy(fixture.stack, accepted.body.deploymentId)).toEqual([]);
  });
});

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}
