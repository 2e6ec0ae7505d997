/**
 * What a hello deployment uses of each service, counted on the real local stack (the counters
 * `npm run bench:cost` prices): plausible figures for one batch, counted from zero for each
 * deployment, and the same for two deployments of the same project.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { measureDeployment, type DeploymentUsage, type PhaseUsage } from '../support/deployment-usage.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles } from '../support/project-files.ts';

let fixture: StackFixture;
let first: DeploymentUsage;
let second: DeploymentUsage;

beforeAll(async () => {
  fixture = await startStackFixture();
  const token = await fixture.stack.issueToken('cost-counter-user');
  const body = { projectId: 'hello-cost', files: await projectFiles('hello-node'), options: { startCommand: 'node server.js' } };
  first = await measureDeployment(fixture.stack, token, body);
  second = await measureDeployment(fixture.stack, token, body);
}, 120_000);

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

/** What does not depend on how long anything took. */
function counts(usage: PhaseUsage) {
  return {
    stateTransitions: usage.stateTransitions,
    transitionsByState: usage.transitionsByState,
    lambda: usage.lambda.byFunction,
    dynamoDb: usage.dynamoDb.byOperation,
    s3: usage.s3.byOperation,
    eventBridge: usage.eventBridge.byDetailType,
  };
}

describe('the cost counters of a hello deployment', () => {
  it('count one run of each saga step, and the API call that started it', () => {
    // Act
    const { lambda } = first.deploy;

    // Assert
    expect(first.status).toBe('RUNNING');
    expect(lambda.byFunction).toMatchObject({ apiCreateDeployment: 1, create: 1, start: 1 });
    expect(lambda.byFunction.uploadBatch).toBeGreaterThanOrEqual(1);
    expect(lambda.byFunction.health).toBeGreaterThanOrEqual(1);
    expect(lambda.byFunction.kill).toBeUndefined();
    expect(lambda.invocations).toBe(Object.values(lambda.byFunction).reduce((a, b) => a + b, 0));
    expect(lambda.gbSeconds).toBeGreaterThan(0);
    expect(lambda.billedMs).toBeGreaterThan(0);
  });

  it('count the state transitions of the saga from Create to Running', () => {
    // Act
    const { stateTransitions, transitionsByState } = first.deploy;

    // Assert
    expect(transitionsByState).toMatchObject({ Create: 1, UploadBatches: 1, Start: 1, Running: 1 });
    expect(transitionsByState.UploadBatch).toBeGreaterThanOrEqual(1);
    expect(transitionsByState.Health).toBeGreaterThanOrEqual(1);
    expect(stateTransitions).toBe(Object.values(transitionsByState).reduce((a, b) => a + b, 0));
  });

  it('count S3 and DynamoDB requests at their local servers, and one event per status entered', () => {
    // Act
    const { s3, dynamoDb, eventBridge } = first.deploy;

    // Assert
    expect(s3.requests).toBeGreaterThan(0);
    expect(s3.byOperation.PutObject).toBeGreaterThanOrEqual(1);
    expect(s3.requests).toBe(s3.writeTier + s3.readTier + s3.free);
    expect(dynamoDb.reads).toBeGreaterThan(0);
    expect(dynamoDb.writes).toBeGreaterThan(0);
    // PENDING, CREATING, UPLOADING, STARTING, CHECKING_HEALTH, RUNNING
    expect(eventBridge.byDetailType).toEqual({ 'Deployment Status Changed': 6 });
  });

  it('count the delete on its own: one API call, no state transition, the TERMINATED event', () => {
    // Act
    const deletion = first.delete;

    // Assert
    expect(deletion.lambda.byFunction).toEqual({ apiDeleteDeployment: 1 });
    expect(deletion.stateTransitions).toBe(0);
    expect(deletion.dynamoDb.writes).toBeGreaterThan(0);
    expect(deletion.eventBridge.events).toBeGreaterThanOrEqual(1);
  });

  it('start from zero for each deployment: a second one counts the same', () => {
    expect(counts(second.deploy)).toEqual(counts(first.deploy));
    expect(counts(second.delete)).toEqual(counts(first.delete));
  });
});
