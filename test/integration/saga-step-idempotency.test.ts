/**
 * Step Functions may run a saga step again (a Lambda retry after the function already did its
 * work). Against the full local stack: re-running any step of a RUNNING deployment creates no
 * second sandbox and leaves the deployment RUNNING, and the kill step run twice after a DELETE
 * leaves TERMINATED standing with no sandbox.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDeploymentRepository } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import type { Deployment } from '../../functions/shared/deployments/deployment.ts';
import type { StagedBatchRef } from '../../functions/shared/deployments/ports.ts';
import type { LocalLambdaHandler } from '../../infra/local/step-functions/local-step-functions.ts';
import { createLambdaContext } from '../../infra/local/lambda-context.ts';
import { liveSandboxesOf, startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { projectFiles } from '../support/project-files.ts';

type Handler<Module> = Module extends { handler: infer H } ? H : never;

let fixture: StackFixture;
/**
 * The step handlers, imported once the stack has configured the environment (as the local stack
 * loads them), so their logger and metrics read the test settings.
 */
let steps: {
  create: Handler<typeof import('../../functions/handlers/create.ts')>;
  uploadBatch: Handler<typeof import('../../functions/handlers/upload-batch.ts')>;
  start: Handler<typeof import('../../functions/handlers/start.ts')>;
  health: Handler<typeof import('../../functions/handlers/health.ts')>;
  kill: Handler<typeof import('../../functions/handlers/kill.ts')>;
};
/** Health steps of these deployments wait until their gate opens: the deployment stays in CHECKING_HEALTH meanwhile. */
const healthGates = new Map<string, Promise<void>>();
let client: DynamoDBClient;
let deployments: DynamoDbDeploymentRepository;
/** Deployed once for the file: every test re-runs a step on it and checks it stayed as it was. */
let running: { deploymentId: string; sandboxId: string; appUrl: string; batches: StagedBatchRef[] };

function lambdaContext(functionName: string) {
  return createLambdaContext({
    functionName,
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    timeoutMs: 30_000,
  });
}

/** Deploys the hello-node fixture app through the API and waits until it runs. */
async function deployHelloNode(projectId: string): Promise<Deployment> {
  const accepted = await fixture.api.deploy({
    projectId,
    files: await projectFiles('hello-node'),
    options: { port: 3000, startCommand: 'node server.js' },
  });
  expect(accepted.status).toBe(202);
  const view = await fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED']);
  expect(view.status, JSON.stringify(view.error)).toBe('RUNNING');
  return (await deployments.get(accepted.body.deploymentId))!;
}

async function appAnswers(appUrl: string): Promise<string> {
  return (await fetch(appUrl)).text();
}

beforeAll(async () => {
  fixture = await startStackFixture({
    wrapHandler: (name, handler): LocalLambdaHandler =>
      name !== 'health'
        ? handler
        : async (event, context) => {
            await healthGates.get((event as { deploymentId: string }).deploymentId);
            return handler(event, context);
          },
  });
  steps = {
    create: (await import('../../functions/handlers/create.ts')).handler,
    uploadBatch: (await import('../../functions/handlers/upload-batch.ts')).handler,
    start: (await import('../../functions/handlers/start.ts')).handler,
    health: (await import('../../functions/handlers/health.ts')).handler,
    kill: (await import('../../functions/handlers/kill.ts')).handler,
  };
  // The local stack points the AWS SDK at its DynamoDB through the environment.
  client = new DynamoDBClient({});
  deployments = new DynamoDbDeploymentRepository({ client, tableName: process.env.DEPLOYMENTS_TABLE! });
  const deployment = await deployHelloNode('idempotency');
  const execution = fixture.stack.stepFunctions.describeExecution(deployment.executionArn!);
  running = {
    deploymentId: deployment.deploymentId,
    sandboxId: deployment.sandboxId!,
    appUrl: deployment.appUrl!,
    batches: (JSON.parse(execution.input!) as { batches: StagedBatchRef[] }).batches,
  };
});

afterAll(async () => {
  client?.destroy();
  await fixture?.stop();
});

describe('re-running a step of a RUNNING deployment', () => {
  it('the create step answers the recorded sandbox and creates no second one', async () => {
    // Prepare
    const before = await deployments.get(running.deploymentId);

    // Act
    const result = await steps.create({ deploymentId: running.deploymentId }, lambdaContext('create'));

    // Assert
    expect(result).toEqual({ sandboxId: running.sandboxId, expiresAt: before!.expiresAt });
    expect(liveSandboxesOf(fixture.stack, running.deploymentId)).toEqual([running.sandboxId]);
    expect(await deployments.get(running.deploymentId)).toEqual(before);
  });

  it('the upload step refuses to write into a deployment past UPLOADING and changes nothing', async () => {
    // Prepare
    const before = await deployments.get(running.deploymentId);
    const event = { deploymentId: running.deploymentId, batch: running.batches[0]! };

    // Act
    const attempt = steps.uploadBatch(event, lambdaContext('upload-batch'));

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'DeploymentStateError' });
    expect(liveSandboxesOf(fixture.stack, running.deploymentId)).toEqual([running.sandboxId]);
    expect(await deployments.get(running.deploymentId)).toEqual(before);
  });

  it('the start step answers with the app it already started and leaves it alone', async () => {
    // Prepare
    const before = await deployments.get(running.deploymentId);

    // Act
    const attempt = steps.start({ deploymentId: running.deploymentId }, lambdaContext('start'));

    // Assert
    await expect(attempt).resolves.toEqual({ pid: before!.appPid });
    expect(liveSandboxesOf(fixture.stack, running.deploymentId)).toEqual([running.sandboxId]);
    expect(await deployments.get(running.deploymentId)).toEqual(before);
    expect(await appAnswers(running.appUrl)).toBe('hello from coderunner\n');
  });

  it('the health step answers healthy with the recorded URL and writes nothing', async () => {
    // Prepare
    const before = await deployments.get(running.deploymentId);

    // Act
    const result = await steps.health({ deploymentId: running.deploymentId }, lambdaContext('health'));

    // Assert
    expect(result).toEqual({ healthy: true, appUrl: running.appUrl });
    expect(liveSandboxesOf(fixture.stack, running.deploymentId)).toEqual([running.sandboxId]);
    expect(await deployments.get(running.deploymentId)).toEqual(before);
  });
});

describe('re-running the start step after it succeeded', () => {
  // Step Functions retries Start on Lambda.ServiceException and friends, which can happen after
  // the function did its work: the retry must answer the recorded start, not fail a healthy app.
  it('answers instead of failing when the deployment already moved on to CHECKING_HEALTH', async () => {
    // Prepare: hold the health step of the next deployment, so it stays in CHECKING_HEALTH
    const gate = Promise.withResolvers<void>();
    const accepted = await fixture.api.deploy({
      projectId: 'start-retried',
      files: await projectFiles('hello-node'),
      options: { port: 3000, startCommand: 'node server.js' },
    });
    const { deploymentId } = accepted.body as { deploymentId: string };
    healthGates.set(deploymentId, gate.promise);
    try {
      await fixture.api.waitForStatus(deploymentId, ['CHECKING_HEALTH']);

      // Act
      const attempt = steps.start({ deploymentId }, lambdaContext('start'));

      // Assert
      await expect(attempt).resolves.toEqual({ pid: expect.any(Number) });
    } finally {
      gate.resolve();
      await fixture.api.waitForStatus(deploymentId, ['RUNNING', 'FAILED']);
      await fixture.api.delete(deploymentId);
    }
  });
});

describe('the kill step after a DELETE', () => {
  it('run twice, leaves TERMINATED standing, records no failure and leaves no sandbox', async () => {
    // Prepare
    const deployment = await deployHelloNode('kill-twice');
    const deleted = await fixture.api.delete(deployment.deploymentId);
    const killEvent = { deploymentId: deployment.deploymentId, failedStep: 'health', error: { Error: 'X', Cause: 'y' } };

    // Act
    const first = await steps.kill(killEvent, lambdaContext('kill'));
    const second = await steps.kill(killEvent, lambdaContext('kill'));

    // Assert
    const after = await deployments.get(deployment.deploymentId);
    expect(deleted.body.status).toBe('TERMINATED');
    expect(first).toMatchObject({ deploymentId: deployment.deploymentId, status: 'TERMINATED' });
    expect(second).toMatchObject({ deploymentId: deployment.deploymentId, status: 'TERMINATED' });
    expect(after!.status).toBe('TERMINATED');
    expect(after!.error).toBeUndefined();
    expect(liveSandboxesOf(fixture.stack, deployment.deploymentId)).toEqual([]);
  });
});
