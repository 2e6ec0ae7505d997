/**
 * The DynamoDB deployment repository against dynalite, with the table created from the CDK
 * stack's own definition: guarded conditional transitions, idempotent retries, races between
 * writers, the sparse active-by-expiry index, batch bookkeeping and owner listings.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbDeploymentRepository } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import { InvalidPageTokenError } from '../../functions/shared/adapters/dynamodb-page-token.ts';
import { filesUploaded, type Deployment } from '../../functions/shared/deployments/deployment.ts';
import type { DeploymentStatus } from '../../functions/shared/deployments/deployment-status.ts';
import { DeploymentNotFoundError, IllegalTransitionError } from '../../functions/shared/deployments/errors.ts';
import type { NewDeployment } from '../../functions/shared/deployments/ports.ts';
import { createTableInput, ensureTable, startLocalDynamoDb, type LocalDynamoDb } from '../../infra/local/aws/local-dynamodb.ts';

const TABLE_NAME = 'repository-test-deployments';
const START = Date.parse('2030-01-01T00:00:00.000Z');

let dynamoDb: LocalDynamoDb;
let client: DynamoDBClient;

beforeAll(async () => {
  const { template, logicalIds } = inject('synthesizedStack');
  dynamoDb = await startLocalDynamoDb();
  client = new DynamoDBClient({
    endpoint: dynamoDb.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTable(client, createTableInput(template, logicalIds.deploymentsTable, TABLE_NAME));
});

afterAll(async () => {
  client?.destroy();
  await dynamoDb?.close();
});

/** A clock that moves one second further on every reading, so every write has its own time. */
function steppingClock(start = START) {
  let readings = 0;
  const clock = () => new Date(start + 1000 * readings++);
  return clock;
}

function repository(now: () => Date = steppingClock()): DynamoDbDeploymentRepository {
  return new DynamoDbDeploymentRepository({ client, tableName: TABLE_NAME, now });
}

function newDeployment(overrides: Partial<NewDeployment> = {}): NewDeployment {
  return {
    deploymentId: randomUUID(),
    userId: `user-${randomUUID()}`,
    projectId: 'hello',
    status: 'PENDING',
    options: { port: 3000, startCommand: 'node server.js', healthPath: '/health', timeoutSeconds: 3600 },
    envNames: [],
    filesTotal: 3,
    bytesTotal: 300,
    batchesTotal: 2,
    createdAt: new Date(START).toISOString(),
    ...overrides,
  };
}

/** Creates a deployment and walks it along the saga path up to `status`. */
async function deploymentIn(repo: DynamoDbDeploymentRepository, status: DeploymentStatus, overrides: Partial<NewDeployment> = {}): Promise<Deployment> {
  const path: DeploymentStatus[] = ['PENDING', 'CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING', 'STOPPING'];
  let deployment = await repo.create(newDeployment(overrides));
  for (const next of path.slice(1, path.indexOf(status) + 1)) {
    const changes = next === 'UPLOADING' ? { sandboxId: `sbx-${deployment.deploymentId}`, expiresAt: '2030-01-01T01:00:00.000Z' } : {};
    deployment = await repo.transition(deployment.deploymentId, next, changes);
  }
  return deployment;
}

async function activeIds(repo: DynamoDbDeploymentRepository, before: Date): Promise<string[]> {
  return (await repo.listActiveExpiringBefore(before)).items.map((item) => item.deploymentId);
}

async function settledRace(...writes: Promise<Deployment>[]) {
  return Promise.allSettled(writes);
}

describe('creating and reading', () => {
  it('gets back the created deployment at version 1, PENDING since its creation', async () => {
    // Prepare
    const repo = repository();
    const input = newDeployment();

    // Act
    const created = await repo.create(input);
    const read = await repo.get(input.deploymentId);

    // Assert
    expect(read).toEqual(created);
    expect(read).toEqual({
      ...input,
      version: 1,
      batchProgress: {},
      timestamps: { PENDING: '2030-01-01T00:00:00.000Z' },
      updatedAt: '2030-01-01T00:00:00.000Z',
    });
  });

  it('answers undefined for an id it does not know', async () => {
    // Prepare
    const repo = repository();

    // Act
    const read = await repo.get(randomUUID());

    // Assert
    expect(read).toBeUndefined();
  });

  it('rejects a second create with the same id and keeps the first record', async () => {
    // Prepare
    const repo = repository();
    const first = await repo.create(newDeployment());

    // Act
    const second = repo.create(newDeployment({ deploymentId: first.deploymentId, userId: 'intruder' }));

    // Assert
    await expect(second).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
    expect(await repo.get(first.deploymentId)).toEqual(first);
  });
});

describe('transitions', () => {
  it('walks the legal path to RUNNING, recording when each status was entered and bumping the version each time', async () => {
    // Prepare
    const repo = repository();
    const { deploymentId } = await repo.create(newDeployment());

    // Act
    await repo.transition(deploymentId, 'CREATING');
    await repo.transition(deploymentId, 'UPLOADING', { sandboxId: 'sbx-1', expiresAt: '2030-01-01T01:00:00.000Z' });
    await repo.transition(deploymentId, 'STARTING');
    await repo.transition(deploymentId, 'CHECKING_HEALTH', { healthDeadline: '2030-01-01T00:10:00.000Z' });
    const running = await repo.transition(deploymentId, 'RUNNING', { appUrl: 'https://3000-sbx-1.example' });

    // Assert
    expect(running).toMatchObject({
      status: 'RUNNING',
      version: 6,
      sandboxId: 'sbx-1',
      expiresAt: '2030-01-01T01:00:00.000Z',
      healthDeadline: '2030-01-01T00:10:00.000Z',
      appUrl: 'https://3000-sbx-1.example',
      timestamps: {
        PENDING: '2030-01-01T00:00:00.000Z',
        CREATING: '2030-01-01T00:00:01.000Z',
        UPLOADING: '2030-01-01T00:00:02.000Z',
        STARTING: '2030-01-01T00:00:03.000Z',
        CHECKING_HEALTH: '2030-01-01T00:00:04.000Z',
        RUNNING: '2030-01-01T00:00:05.000Z',
      },
      updatedAt: '2030-01-01T00:00:05.000Z',
    });
    expect(await repo.get(deploymentId)).toEqual(running);
  });

  it('refuses an illegal transition with IllegalTransitionError naming from and to, and changes nothing', async () => {
    // Prepare
    const repo = repository();
    const before = await repo.create(newDeployment());

    // Act
    const attempt = repo.transition(before.deploymentId, 'RUNNING', { appUrl: 'https://nowhere' });

    // Assert
    const error = await attempt.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(IllegalTransitionError);
    expect(error).toMatchObject({ name: 'IllegalTransitionError', from: 'PENDING', to: 'RUNNING' });
    expect((error as Error).message).toBe(`deployment ${before.deploymentId} cannot move from PENDING to RUNNING`);
    expect(await repo.get(before.deploymentId)).toEqual(before);
  });

  it('never moves a terminal deployment', async () => {
    // Prepare
    const repo = repository();
    const { deploymentId } = await deploymentIn(repo, 'RUNNING');
    const terminated = await repo.transition(deploymentId, 'TERMINATED');

    // Act
    const attempt = repo.transition(deploymentId, 'EXPIRED');

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'IllegalTransitionError', from: 'TERMINATED', to: 'EXPIRED' });
    expect(await repo.get(deploymentId)).toEqual(terminated);
  });

  it('answers DeploymentNotFoundError for a transition of an unknown id', async () => {
    // Prepare
    const repo = repository();

    // Act
    const attempt = repo.transition(randomUUID(), 'CREATING');

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(DeploymentNotFoundError);
  });

  it('returns the record when a retried step repeats the transition it already made', async () => {
    // Prepare
    const repo = repository();
    const { deploymentId } = await repo.create(newDeployment());
    const first = await repo.transition(deploymentId, 'CREATING');

    // Act
    const repeated = await repo.transition(deploymentId, 'CREATING');

    // Assert
    expect(repeated).toEqual(first);
    expect(repeated.version).toBe(2);
  });
});

describe('concurrent writers', () => {
  it.each([
    ['STOPPING', 'TERMINATED', 'FAILED', 'a caller terminates while the kill step fails it'],
    ['RUNNING', 'STOPPING', 'LOST', 'the sweep starts expiring it while another sweep finds it lost'],
    ['RUNNING', 'TERMINATED', 'LOST', 'a redeploy takes it over while the sweep finds it lost'],
  ] as const)('from %s, racing %s against %s: exactly one wins (%s)', async (from, oneTarget, otherTarget, _why) => {
    // Prepare: several deployments, so that both orders of arrival get a chance
    const repo = repository();
    const deployments = await Promise.all(Array.from({ length: 8 }, () => deploymentIn(repo, from)));

    // Act
    const races = await Promise.all(
      deployments.map(({ deploymentId }) =>
        settledRace(repo.transition(deploymentId, oneTarget), repo.transition(deploymentId, otherTarget)),
      ),
    );

    // Assert
    for (const [index, outcomes] of races.entries()) {
      const winners = outcomes.filter((outcome) => outcome.status === 'fulfilled');
      const losers = outcomes.filter((outcome) => outcome.status === 'rejected');
      expect(winners).toHaveLength(1);
      expect(losers).toHaveLength(1);
      const winner = (winners[0] as PromiseFulfilledResult<Deployment>).value;
      const loserTarget = winner.status === oneTarget ? otherTarget : oneTarget;
      expect((losers[0] as PromiseRejectedResult).reason).toBeInstanceOf(IllegalTransitionError);
      expect((losers[0] as PromiseRejectedResult).reason).toMatchObject({ from: winner.status, to: loserTarget });
      expect(await repo.get(deployments[index]!.deploymentId)).toEqual(winner);
    }
  });

  it('a stop racing the saga moving CREATING to UPLOADING always ends STOPPING', async () => {
    // Prepare: STOPPING may follow UPLOADING, so the saga's write only loses if it comes second
    const repo = repository();
    const deployments = await Promise.all(Array.from({ length: 8 }, () => deploymentIn(repo, 'CREATING')));

    // Act
    const races = await Promise.all(
      deployments.map(({ deploymentId }) =>
        settledRace(repo.transition(deploymentId, 'STOPPING'), repo.transition(deploymentId, 'UPLOADING', { sandboxId: 'sbx-race' })),
      ),
    );

    // Assert
    for (const [index, outcomes] of races.entries()) {
      const [terminate, upload] = outcomes as [PromiseSettledResult<Deployment>, PromiseSettledResult<Deployment>];
      const final = await repo.get(deployments[index]!.deploymentId);
      expect(terminate.status).toBe('fulfilled');
      expect(final!.status).toBe('STOPPING');
      if (upload.status === 'rejected') {
        expect(upload.reason).toMatchObject({ name: 'IllegalTransitionError', from: 'STOPPING', to: 'UPLOADING' });
        expect(final!.timestamps.UPLOADING).toBeUndefined();
      } else {
        expect(final!.timestamps.UPLOADING).toBeDefined();
      }
    }
  });
});

describe('the active-by-expiry index', () => {
  const AFTER_EXPIRY = new Date('2030-01-01T02:00:00.000Z');

  it('leaves out a deployment that has no sandbox yet', async () => {
    // Prepare
    const repo = repository();

    // Act
    const creating = await deploymentIn(repo, 'CREATING');

    // Assert
    expect(await activeIds(repo, AFTER_EXPIRY)).not.toContain(creating.deploymentId);
  });

  it('lists a deployment once its sandbox id is recorded', async () => {
    // Prepare
    const repo = repository();
    const { deploymentId } = await deploymentIn(repo, 'CREATING');

    // Act
    await repo.transition(deploymentId, 'UPLOADING', { sandboxId: 'sbx-active', expiresAt: '2030-01-01T01:00:00.000Z' });

    // Assert
    expect(await activeIds(repo, AFTER_EXPIRY)).toContain(deploymentId);
  });

  it('lists a sandbox recorded by update, without a status change', async () => {
    // Prepare
    const repo = repository();
    const { deploymentId } = await deploymentIn(repo, 'CREATING');

    // Act
    await repo.update(deploymentId, { sandboxId: 'sbx-early', expiresAt: '2030-01-01T01:00:00.000Z' });

    // Assert
    expect(await activeIds(repo, AFTER_EXPIRY)).toContain(deploymentId);
  });

  it('only lists deployments expiring before the given time', async () => {
    // Prepare
    const repo = repository();
    const { deploymentId } = await deploymentIn(repo, 'UPLOADING');

    // Act
    const beforeExpiry = await activeIds(repo, new Date('2030-01-01T00:59:59.000Z'));

    // Assert
    expect(beforeExpiry).not.toContain(deploymentId);
  });

  it.each(['TERMINATED', 'EXPIRED', 'LOST'] as const)('drops a running deployment that becomes %s', async (terminal) => {
    // Prepare
    const repo = repository();
    const { deploymentId } = await deploymentIn(repo, 'RUNNING');
    expect(await activeIds(repo, AFTER_EXPIRY)).toContain(deploymentId);

    // Act: EXPIRED comes after STOPPING (its sandbox killed); TERMINATED (handed on) and LOST directly
    if (terminal === 'EXPIRED') await repo.transition(deploymentId, 'STOPPING');
    await repo.transition(deploymentId, terminal);

    // Assert
    expect(await activeIds(repo, AFTER_EXPIRY)).not.toContain(deploymentId);
  });

  it('drops a deployment that FAILED with its sandbox recorded', async () => {
    // Prepare
    const repo = repository();
    const { deploymentId } = await deploymentIn(repo, 'STARTING');

    // Act
    await repo.transition(deploymentId, 'STOPPING');
    await repo.transition(deploymentId, 'FAILED', { error: { step: 'start', name: 'StartFailedError', message: 'exited' } });

    // Assert
    expect(await activeIds(repo, AFTER_EXPIRY)).not.toContain(deploymentId);
  });
});

describe('batch bookkeeping', () => {
  it('counts a batch recorded twice (a retried upload) once', async () => {
    // Prepare
    const repo = repository();
    const { deploymentId } = await deploymentIn(repo, 'UPLOADING');

    // Act
    await repo.recordBatch(deploymentId, 0, 2);
    await repo.recordBatch(deploymentId, 0, 2);
    await repo.recordBatch(deploymentId, 1, 1);

    // Assert
    const deployment = await repo.get(deploymentId);
    expect(deployment!.batchProgress).toEqual({ 0: 2, 1: 1 });
    expect(filesUploaded(deployment!)).toBe(3);
  });

  it('answers DeploymentNotFoundError when recording a batch of an unknown deployment', async () => {
    // Prepare
    const repo = repository();

    // Act
    const attempt = repo.recordBatch(randomUUID(), 0, 1);

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(DeploymentNotFoundError);
  });
});

describe('listing by owner', () => {
  /** Four deployments of one user over two projects, a day apart, and one of another user. */
  async function ownersWithDeployments() {
    const repo = repository();
    const owner = `owner-${randomUUID()}`;
    const other = `other-${randomUUID()}`;
    const made = async (userId: string, projectId: string, day: number) =>
      (await repo.create(newDeployment({ userId, projectId, createdAt: `2030-01-0${day}T00:00:00.000Z` }))).deploymentId;
    const owned = { day1: await made(owner, 'alpha', 1), day2: await made(owner, 'beta', 2), day3: await made(owner, 'alpha', 3), day4: await made(owner, 'alpha', 4) };
    await made(other, 'alpha', 5);
    return { repo, owner, other, owned };
  }

  it("lists only the caller's deployments, newest first", async () => {
    // Prepare
    const { repo, owner, owned } = await ownersWithDeployments();

    // Act
    const page = await repo.listByOwner(owner);

    // Assert
    expect(page.items.map((item) => item.deploymentId)).toEqual([owned.day4, owned.day3, owned.day2, owned.day1]);
    expect(page.items.every((item) => item.userId === owner)).toBe(true);
    expect(page.nextToken).toBeUndefined();
  });

  it('filters by project, newest first', async () => {
    // Prepare
    const { repo, owner, owned } = await ownersWithDeployments();

    // Act
    const page = await repo.listByOwner(owner, { projectId: 'alpha' });

    // Assert
    expect(page.items.map((item) => item.deploymentId)).toEqual([owned.day4, owned.day3, owned.day1]);
  });

  it('pages with nextToken until the last page, which has none', async () => {
    // Prepare
    const { repo, owner, owned } = await ownersWithDeployments();

    // Act
    const first = await repo.listByOwner(owner, { limit: 3 });
    const second = await repo.listByOwner(owner, { limit: 3, nextToken: first.nextToken });

    // Assert
    expect(first.items.map((item) => item.deploymentId)).toEqual([owned.day4, owned.day3, owned.day2]);
    expect(first.nextToken).toEqual(expect.any(String));
    expect(second.items.map((item) => item.deploymentId)).toEqual([owned.day1]);
    expect(second.nextToken).toBeUndefined();
  });

  it('pages a project listing too', async () => {
    // Prepare
    const { repo, owner, owned } = await ownersWithDeployments();

    // Act
    const first = await repo.listByOwner(owner, { projectId: 'alpha', limit: 2 });
    const second = await repo.listByOwner(owner, { projectId: 'alpha', limit: 2, nextToken: first.nextToken });

    // Assert
    expect([...first.items, ...second.items].map((item) => item.deploymentId)).toEqual([owned.day4, owned.day3, owned.day1]);
    expect(second.nextToken).toBeUndefined();
  });

  it.each(['not a token', '%%%', '!'])('rejects the malformed nextToken %j with InvalidPageTokenError', async (token) => {
    // Prepare
    const { repo, owner } = await ownersWithDeployments();

    // Act
    const attempt = repo.listByOwner(owner, { nextToken: token });

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(InvalidPageTokenError);
  });

  // A token that decodes to a key (another user's, or a forged one) must not reach DynamoDB as
  // ExclusiveStartKey: it would page through from another partition's position.
  it("rejects another user's well-formed nextToken with InvalidPageTokenError", async () => {
    // Prepare
    const { repo, owner, other } = await ownersWithDeployments();
    await repo.create(newDeployment({ userId: other, createdAt: '2030-01-06T00:00:00.000Z' }));
    const othersToken = (await repo.listByOwner(other, { limit: 1 })).nextToken;

    // Act
    const attempt = repo.listByOwner(owner, { nextToken: othersToken });

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(InvalidPageTokenError);
  });
});
