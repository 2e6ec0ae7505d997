/**
 * Contract of the deployment repository, the sandbox ownership and the sweep's bookkeeping, run
 * against the in-memory fakes the unit tests use AND the DynamoDB adapter on dynalite (its table
 * from the CDK stack's own definition, a fresh table per test), so the fakes cannot drift from
 * the adapter: the same writes give the same records, versions, timestamps, errors, owners,
 * listings and pages.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbDeploymentRepository } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import { DynamoDbSandboxOwnership } from '../../functions/shared/adapters/dynamodb-sandbox-ownership.ts';
import { DynamoDbSweepBookkeeping } from '../../functions/shared/adapters/dynamodb-sweep-bookkeeping.ts';
import { InvalidPageTokenError } from '../../functions/shared/adapters/dynamodb-page-token.ts';
import type { Deployment } from '../../functions/shared/deployments/deployment.ts';
import type { DeploymentStatus } from '../../functions/shared/deployments/deployment-status.ts';
import { DeploymentNotFoundError, IllegalTransitionError } from '../../functions/shared/deployments/errors.ts';
import type { DeploymentPage, DeploymentRepository, NewDeployment, SandboxOwnership, SweepBookkeeping } from '../../functions/shared/deployments/ports.ts';
import { createTableInput, ensureTable, startLocalDynamoDb, type LocalDynamoDb } from '../../infra/local/aws/local-dynamodb.ts';
import { newDeployment, SAGA_PATH } from '../support/fakes/deployment-builders.ts';
import { FakeClock } from '../support/fakes/fake-clock.ts';
import { MemoryDeploymentRepository } from '../support/fakes/memory-deployment-repository.ts';
import { MemorySandboxOwnership } from '../support/fakes/memory-sandbox-ownership.ts';
import { MemorySweepBookkeeping } from '../support/fakes/memory-sweep-bookkeeping.ts';

const START = '2030-01-01T00:00:00.000Z';

let dynamoDb: LocalDynamoDb;
let client: DynamoDBClient;

beforeAll(async () => {
  dynamoDb = await startLocalDynamoDb();
  client = new DynamoDBClient({ endpoint: dynamoDb.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
});

afterAll(async () => {
  client?.destroy();
  await dynamoDb?.close();
});

interface Subject {
  repository: DeploymentRepository;
  ownership: SandboxOwnership;
  bookkeeping: SweepBookkeeping;
  clock: FakeClock;
}

/** A fresh, empty store per test: listings of the sparse indexes span the whole table. */
const IMPLEMENTATIONS: [string, () => Promise<Subject>][] = [
  [
    'in-memory fakes',
    async () => {
      const clock = new FakeClock(START);
      return {
        repository: new MemoryDeploymentRepository({ now: clock.now }),
        ownership: new MemorySandboxOwnership(),
        bookkeeping: new MemorySweepBookkeeping({ now: clock.now }),
        clock,
      };
    },
  ],
  [
    'DynamoDB adapter on dynalite',
    async () => {
      const { template, logicalIds } = inject('synthesizedStack');
      const tableName = `contract-${randomUUID()}`;
      await ensureTable(client, createTableInput(template, logicalIds.deploymentsTable, tableName));
      const clock = new FakeClock(START);
      const table = { client, tableName, now: clock.now };
      return {
        repository: new DynamoDbDeploymentRepository(table),
        ownership: new DynamoDbSandboxOwnership(table),
        bookkeeping: new DynamoDbSweepBookkeeping(table),
        clock,
      };
    },
  ],
];

/** Walks a new deployment along the saga path up to `status`, one second per write. */
async function deploymentIn(subject: Subject, status: DeploymentStatus, overrides: Partial<NewDeployment> = {}): Promise<Deployment> {
  const { repository, clock } = subject;
  let deployment = await repository.create(newDeployment({ createdAt: clock.iso(), ...overrides }));
  for (const next of SAGA_PATH.slice(1, SAGA_PATH.indexOf(status) + 1)) {
    clock.advanceSeconds(1);
    const changes = next === 'UPLOADING' ? { sandboxId: `sbx-${deployment.deploymentId}`, expiresAt: clock.inSeconds(3600) } : {};
    deployment = await repository.transition(deployment.deploymentId, next, changes);
  }
  return deployment;
}

/** Ends a record as every ending does: STOPPING with its target, then the terminal status. */
async function endThrough(subject: Subject, deploymentId: string, to: 'FAILED' | 'TERMINATED' | 'EXPIRED'): Promise<Deployment> {
  await subject.repository.transition(deploymentId, 'STOPPING', { ending: { to } });
  return subject.repository.transition(deploymentId, to);
}

async function allPages(read: (nextToken?: string) => Promise<DeploymentPage>): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await read(nextToken);
    ids.push(...page.items.map((item) => item.deploymentId));
    nextToken = page.nextToken;
    pages += 1;
  } while (nextToken && pages < 100);
  return { ids, pages };
}

describe.each(IMPLEMENTATIONS)('%s', (_name, makeSubject) => {
  let subject: Subject;

  beforeAll(async () => {
    // One warm-up store: the first table creation of a run is the slow one.
    await makeSubject();
  });

  async function fresh(): Promise<Subject> {
    subject = await makeSubject();
    return subject;
  }

  describe('records', () => {
    it('creates a deployment at version 1, PENDING since now, with no batch recorded', async () => {
      const { repository, clock } = await fresh();
      const input = newDeployment({ createdAt: clock.iso() });

      const created = await repository.create(input);

      const expected = { ...input, version: 1, batchProgress: {}, timestamps: { PENDING: START }, updatedAt: START };
      expect(created).toEqual(expected);
      expect(await repository.get(input.deploymentId)).toEqual(expected);
    });

    it('refuses a second create with the same id as a failed condition and keeps the first record', async () => {
      const { repository } = await fresh();
      const first = await repository.create(newDeployment({ projectId: 'first' }));

      const second = repository.create(newDeployment({ deploymentId: first.deploymentId, projectId: 'second' }));

      await expect(second).rejects.toMatchObject({ name: 'ConditionalCheckFailedException' });
      expect((await repository.get(first.deploymentId))?.projectId).toBe('first');
    });

    it('answers undefined for an id it does not know', async () => {
      const { repository } = await fresh();

      expect(await repository.get(randomUUID())).toBeUndefined();
    });
  });

  describe('transitions', () => {
    it('moves along the legal path, bumping the version, stamping each status and applying the changes', async () => {
      const { repository, clock } = await fresh();
      const { deploymentId } = await repository.create(newDeployment({ createdAt: clock.iso() }));

      clock.advanceSeconds(1);
      await repository.transition(deploymentId, 'CREATING');
      clock.advanceSeconds(1);
      const uploading = await repository.transition(deploymentId, 'UPLOADING', { sandboxId: 'sbx-1', expiresAt: '2030-01-01T01:00:00.000Z' });

      expect(uploading).toMatchObject({
        status: 'UPLOADING',
        version: 3,
        sandboxId: 'sbx-1',
        expiresAt: '2030-01-01T01:00:00.000Z',
        timestamps: { PENDING: START, CREATING: '2030-01-01T00:00:01.000Z', UPLOADING: '2030-01-01T00:00:02.000Z' },
        updatedAt: '2030-01-01T00:00:02.000Z',
      });
      expect(await repository.get(deploymentId)).toEqual(uploading);
    });

    it('refuses an illegal transition with IllegalTransitionError naming from and to, and changes nothing', async () => {
      const { repository } = await fresh();
      const created = await repository.create(newDeployment());

      const attempt = repository.transition(created.deploymentId, 'RUNNING', { appUrl: 'https://x' });

      await expect(attempt).rejects.toBeInstanceOf(IllegalTransitionError);
      await expect(attempt).rejects.toMatchObject({ from: 'PENDING', to: 'RUNNING' });
      expect(await repository.get(created.deploymentId)).toEqual(created);
    });

    it('answers a retried transition to the status the record already has with the record, unchanged', async () => {
      const subject = await fresh();
      const uploading = await deploymentIn(subject, 'UPLOADING');

      subject.clock.advanceSeconds(5);
      const retried = await subject.repository.transition(uploading.deploymentId, 'UPLOADING', { sandboxId: 'another' });

      expect(retried).toEqual(uploading);
    });

    it('ends only through STOPPING: a record in a saga step cannot become terminal at once', async () => {
      const subject = await fresh();
      const uploading = await deploymentIn(subject, 'UPLOADING');

      const attempt = subject.repository.transition(uploading.deploymentId, 'FAILED');

      await expect(attempt).rejects.toMatchObject({ name: 'IllegalTransitionError', from: 'UPLOADING', to: 'FAILED' });
      expect(await subject.repository.get(uploading.deploymentId)).toEqual(uploading);
    });

    it('records STOPPING with the ending it is on its way to, then the terminal status', async () => {
      const subject = await fresh();
      const running = await deploymentIn(subject, 'RUNNING');

      subject.clock.advanceSeconds(1);
      const stopping = await subject.repository.transition(running.deploymentId, 'STOPPING', { ending: { to: 'EXPIRED' } });
      subject.clock.advanceSeconds(1);
      const expired = await subject.repository.transition(running.deploymentId, 'EXPIRED');

      expect(stopping).toMatchObject({ status: 'STOPPING', ending: { to: 'EXPIRED' }, version: running.version + 1, timestamps: { STOPPING: '2030-01-01T00:00:06.000Z' } });
      expect(expired).toMatchObject({ status: 'EXPIRED', ending: { to: 'EXPIRED' }, version: running.version + 2, timestamps: { EXPIRED: '2030-01-01T00:00:07.000Z' } });
    });

    it('hands a RUNNING record on to TERMINATED, and marks it LOST, without STOPPING', async () => {
      const subject = await fresh();
      const handedOn = await deploymentIn(subject, 'RUNNING');
      const vanished = await deploymentIn(subject, 'RUNNING');

      const terminated = await subject.repository.transition(handedOn.deploymentId, 'TERMINATED', { replacedBy: 'the-redeploy' });
      const lost = await subject.repository.transitionFrom(vanished.deploymentId, vanished, 'LOST');

      expect(terminated).toMatchObject({ status: 'TERMINATED', replacedBy: 'the-redeploy' });
      expect(lost?.status).toBe('LOST');
    });

    it('never moves a terminal record', async () => {
      const { repository } = await fresh();
      const { deploymentId } = await repository.create(newDeployment());
      await repository.transition(deploymentId, 'STOPPING', { ending: { to: 'FAILED' } });
      await repository.transition(deploymentId, 'FAILED');

      const attempt = repository.transition(deploymentId, 'TERMINATED');

      await expect(attempt).rejects.toMatchObject({ name: 'IllegalTransitionError', from: 'FAILED', to: 'TERMINATED' });
    });

    it('answers DeploymentNotFoundError for a transition of an unknown id', async () => {
      const { repository } = await fresh();

      await expect(repository.transition(randomUUID(), 'CREATING')).rejects.toBeInstanceOf(DeploymentNotFoundError);
    });

    it('moves a record with transitionFrom only while it is exactly at the status and version expected', async () => {
      const subject = await fresh();
      const running = await deploymentIn(subject, 'RUNNING');
      await subject.repository.update(running.deploymentId, { expiresAt: '2030-01-02T00:00:00.000Z' });

      const stale = await subject.repository.transitionFrom(running.deploymentId, running, 'STOPPING', { ending: { to: 'EXPIRED' } });
      const current = (await subject.repository.get(running.deploymentId))!;
      const moved = await subject.repository.transitionFrom(running.deploymentId, current, 'STOPPING', { ending: { to: 'EXPIRED' } });

      expect(stale).toBeUndefined();
      expect(moved).toMatchObject({ status: 'STOPPING', ending: { to: 'EXPIRED' }, version: current.version + 1 });
    });

    it('answers undefined for a transitionFrom whose expected status may not precede the target', async () => {
      const subject = await fresh();
      const pending = await deploymentIn(subject, 'PENDING');

      const moved = await subject.repository.transitionFrom(pending.deploymentId, pending, 'RUNNING');

      expect(moved).toBeUndefined();
      expect(await subject.repository.get(pending.deploymentId)).toEqual(pending);
    });
  });

  describe('updates and batches', () => {
    it('updates fields without a status change, bumping the version', async () => {
      const subject = await fresh();
      const running = await deploymentIn(subject, 'RUNNING');

      subject.clock.advanceSeconds(10);
      const updated = await subject.repository.update(running.deploymentId, { expiresAt: '2030-01-03T00:00:00.000Z' });

      expect(updated).toEqual({ ...running, expiresAt: '2030-01-03T00:00:00.000Z', version: running.version + 1, updatedAt: subject.clock.iso() });
    });

    it('answers DeploymentNotFoundError for an update or a batch of an unknown id', async () => {
      const { repository } = await fresh();

      await expect(repository.update(randomUUID(), { appPid: 1 })).rejects.toBeInstanceOf(DeploymentNotFoundError);
      await expect(repository.recordBatch(randomUUID(), 0, 1)).rejects.toBeInstanceOf(DeploymentNotFoundError);
    });

    it('records a batch once per index, however often it is recorded, each time as a write', async () => {
      const subject = await fresh();
      const uploading = await deploymentIn(subject, 'UPLOADING');

      await subject.repository.recordBatch(uploading.deploymentId, 0, 2);
      await subject.repository.recordBatch(uploading.deploymentId, 1, 3);
      await subject.repository.recordBatch(uploading.deploymentId, 0, 2);

      expect(await subject.repository.get(uploading.deploymentId)).toMatchObject({ batchProgress: { '0': 2, '1': 3 }, version: uploading.version + 3 });
    });
  });

  describe('the active-by-expiry listing', () => {
    it('lists only records with a sandbox that are not terminal, soonest expiry first, before the given time', async () => {
      const subject = await fresh();
      const { repository, clock } = subject;
      await deploymentIn(subject, 'CREATING');
      const later = await deploymentIn(subject, 'RUNNING');
      const sooner = await deploymentIn(subject, 'UPLOADING');
      await repository.update(later.deploymentId, { expiresAt: '2030-01-01T05:00:00.000Z' });
      await repository.update(sooner.deploymentId, { expiresAt: '2030-01-01T02:00:00.000Z' });
      const failed = await deploymentIn(subject, 'UPLOADING');
      await endThrough(subject, failed.deploymentId, 'FAILED');
      clock.advanceSeconds(1);

      const all = await repository.listActiveExpiringBefore(new Date('2030-01-02T00:00:00.000Z'));
      const beforeFour = await repository.listActiveExpiringBefore(new Date('2030-01-01T04:00:00.000Z'));

      expect(all.items.map((item) => item.deploymentId)).toEqual([sooner.deploymentId, later.deploymentId]);
      expect(all.nextToken).toBeUndefined();
      expect(beforeFour.items.map((item) => item.deploymentId)).toEqual([sooner.deploymentId]);
    });

    it('lists a record whose sandbox is recorded by an update, without a status change', async () => {
      const subject = await fresh();
      const creating = await deploymentIn(subject, 'CREATING');

      await subject.repository.update(creating.deploymentId, { sandboxId: 'sbx-early', expiresAt: '2030-01-01T01:00:00.000Z' });

      const page = await subject.repository.listActiveExpiringBefore(new Date('2031-01-01T00:00:00.000Z'));
      expect(page.items.map((item) => item.deploymentId)).toEqual([creating.deploymentId]);
    });

    it('lists a record created with a sandbox from its creation', async () => {
      const { repository } = await fresh();

      const created = await repository.create(newDeployment({ sandboxId: 'sbx-live', expiresAt: '2030-01-01T03:00:00.000Z' }));

      const page = await repository.listActiveExpiringBefore(new Date('2031-01-01T00:00:00.000Z'));
      expect(page.items.map((item) => item.deploymentId)).toEqual([created.deploymentId]);
    });

    it('lists a redeploy only once its create step names the sandbox it took over', async () => {
      const subject = await fresh();
      const { repository } = subject;
      const redeploy = await repository.create(newDeployment({ reusedFrom: { deploymentId: 'previous', sandboxId: 'sbx-live', expiresAt: '2030-01-01T03:00:00.000Z', appPid: 7 } }));
      const before = await repository.listActiveExpiringBefore(new Date('2031-01-01T00:00:00.000Z'));

      await repository.transition(redeploy.deploymentId, 'CREATING');
      await repository.transition(redeploy.deploymentId, 'UPLOADING', { sandboxId: 'sbx-live', expiresAt: '2030-01-01T04:00:00.000Z' });
      const after = await repository.listActiveExpiringBefore(new Date('2031-01-01T00:00:00.000Z'));

      expect(before.items).toEqual([]);
      expect(after.items.map((item) => item.deploymentId)).toEqual([redeploy.deploymentId]);
    });

    it('keeps a STOPPING record listed until it is terminal', async () => {
      const subject = await fresh();
      const running = await deploymentIn(subject, 'RUNNING');
      const far = new Date('2031-01-01T00:00:00.000Z');

      await subject.repository.transition(running.deploymentId, 'STOPPING', { ending: { to: 'TERMINATED' } });
      const whileStopping = await subject.repository.listActiveExpiringBefore(far);
      await subject.repository.transition(running.deploymentId, 'TERMINATED');
      const ended = await subject.repository.listActiveExpiringBefore(far);

      expect(whileStopping.items.map((item) => item.status)).toEqual(['STOPPING']);
      expect(ended.items).toEqual([]);
    });

    it('pages through records with the same expiry, each exactly once, a full page ending with a token', async () => {
      const { repository } = await fresh();
      const ids: string[] = [];
      for (let index = 0; index < 5; index++) {
        const { deploymentId } = await repository.create(newDeployment({ sandboxId: `sbx-${index}`, expiresAt: '2030-01-01T01:00:00.000Z' }));
        ids.push(deploymentId);
      }

      const first = await repository.listActiveExpiringBefore(new Date('2031-01-01T00:00:00.000Z'), { limit: 5 });
      const paged = await allPages((nextToken) => repository.listActiveExpiringBefore(new Date('2031-01-01T00:00:00.000Z'), { limit: 2, ...(nextToken ? { nextToken } : {}) }));

      expect(first.items).toHaveLength(5);
      expect(first.nextToken).toEqual(expect.any(String));
      expect([...paged.ids].sort()).toEqual([...ids].sort());
      expect(paged.pages).toBe(3);
    });
  });

  describe('the in-flight listing', () => {
    it('lists records in a saga step by when their current step started, oldest first, and drops them once RUNNING or terminal', async () => {
      const subject = await fresh();
      const { repository, clock } = subject;
      const first = await deploymentIn(subject, 'PENDING');
      clock.advanceSeconds(10);
      const second = await deploymentIn(subject, 'PENDING');
      clock.advanceSeconds(10);
      // The first one moves on: its new step started after the second's.
      await repository.transition(first.deploymentId, 'CREATING');
      const running = await deploymentIn(subject, 'RUNNING');
      const failed = await deploymentIn(subject, 'PENDING');
      await endThrough(subject, failed.deploymentId, 'FAILED');
      clock.advanceSeconds(10);

      const page = await repository.listInFlightSince(clock.now());
      const beforeTheMove = await repository.listInFlightSince(new Date('2030-01-01T00:00:15.000Z'));

      expect(page.items.map((item) => item.deploymentId)).toEqual([second.deploymentId, first.deploymentId]);
      expect(page.items.map((item) => item.deploymentId)).not.toContain(running.deploymentId);
      expect(beforeTheMove.items.map((item) => item.deploymentId)).toEqual([second.deploymentId]);
    });

    it('keeps a record that stops from a saga step listed, from when it began stopping, until it is terminal', async () => {
      const subject = await fresh();
      const { repository, clock } = subject;
      const uploading = await deploymentIn(subject, 'UPLOADING');
      clock.advanceSeconds(10);
      const began = clock.iso();

      await repository.transition(uploading.deploymentId, 'STOPPING', { ending: { to: 'FAILED' } });
      clock.advanceSeconds(1);
      const stopping = await repository.listInFlightSince(clock.now());
      const beforeItBegan = await repository.listInFlightSince(new Date(began));
      await repository.transition(uploading.deploymentId, 'FAILED');
      const ended = await repository.listInFlightSince(clock.now());

      expect(stopping.items.map((item) => `${item.deploymentId} ${item.status}`)).toEqual([`${uploading.deploymentId} STOPPING`]);
      expect(beforeItBegan.items).toEqual([]);
      expect(ended.items).toEqual([]);
    });

    it('lists a RUNNING record once it began STOPPING, from when it began', async () => {
      const subject = await fresh();
      const { repository, clock } = subject;
      const running = await deploymentIn(subject, 'RUNNING');
      clock.advanceSeconds(10);

      await repository.transition(running.deploymentId, 'STOPPING', { ending: { to: 'TERMINATED' } });
      clock.advanceSeconds(1);
      const stopping = await repository.listInFlightSince(clock.now());

      expect(stopping.items.map((item) => `${item.deploymentId} ${item.status}`)).toEqual([`${running.deploymentId} STOPPING`]);
    });
  });

  describe('the active-by-owner listing', () => {
    it("lists only the caller's records that may have a live sandbox, newest first", async () => {
      const subject = await fresh();
      const owner = `owner-${randomUUID()}`;
      const at = (day: number) => ({ userId: owner, createdAt: `2030-01-0${day}T00:00:00.000Z` });
      const running = await deploymentIn(subject, 'RUNNING', at(1));
      await deploymentIn(subject, 'PENDING', at(2));
      const uploading = await deploymentIn(subject, 'UPLOADING', at(3));
      const stopping = await deploymentIn(subject, 'RUNNING', at(4));
      await subject.repository.transition(stopping.deploymentId, 'STOPPING', { ending: { to: 'TERMINATED' } });
      const failed = await deploymentIn(subject, 'UPLOADING', at(5));
      await endThrough(subject, failed.deploymentId, 'FAILED');
      const lost = await deploymentIn(subject, 'RUNNING', at(6));
      await subject.repository.transitionFrom(lost.deploymentId, lost, 'LOST');
      const handedOn = await deploymentIn(subject, 'RUNNING', at(7));
      await subject.repository.transition(handedOn.deploymentId, 'TERMINATED', { replacedBy: 'the-redeploy' });
      await deploymentIn(subject, 'RUNNING', { userId: `other-${randomUUID()}`, createdAt: '2030-01-08T00:00:00.000Z' });

      const page = await subject.repository.listActiveByOwner(owner);

      expect(page.items.map((item) => item.deploymentId)).toEqual([stopping.deploymentId, uploading.deploymentId, running.deploymentId]);
      expect(page.nextToken).toBeUndefined();
    });

    it('lists a record once a write names its sandbox, without a status change', async () => {
      const subject = await fresh();
      const owner = `owner-${randomUUID()}`;
      const creating = await deploymentIn(subject, 'CREATING', { userId: owner });

      await subject.repository.update(creating.deploymentId, { sandboxId: 'sbx-early', expiresAt: '2030-01-01T01:00:00.000Z' });

      expect((await subject.repository.listActiveByOwner(owner)).items.map((item) => item.deploymentId)).toEqual([creating.deploymentId]);
    });

    it('filters by project after a page is read: a page can hold fewer than the limit and still go on', async () => {
      const subject = await fresh();
      const owner = `owner-${randomUUID()}`;
      const alpha1 = await deploymentIn(subject, 'RUNNING', { userId: owner, projectId: 'alpha', createdAt: '2030-01-01T00:00:00.000Z' });
      await deploymentIn(subject, 'RUNNING', { userId: owner, projectId: 'beta', createdAt: '2030-01-02T00:00:00.000Z' });
      const alpha3 = await deploymentIn(subject, 'RUNNING', { userId: owner, projectId: 'alpha', createdAt: '2030-01-03T00:00:00.000Z' });

      const first = await subject.repository.listActiveByOwner(owner, { projectId: 'alpha', limit: 2 });
      const second = await subject.repository.listActiveByOwner(owner, { projectId: 'alpha', limit: 2, nextToken: first.nextToken! });
      const all = await subject.repository.listActiveByOwner(owner, { projectId: 'alpha' });

      expect(first.items.map((item) => item.deploymentId)).toEqual([alpha3.deploymentId]);
      expect(first.nextToken).toEqual(expect.any(String));
      expect(second.items.map((item) => item.deploymentId)).toEqual([alpha1.deploymentId]);
      expect(all.items.map((item) => item.deploymentId)).toEqual([alpha3.deploymentId, alpha1.deploymentId]);
    });

    it("refuses another caller's token and a token of another listing with InvalidPageTokenError", async () => {
      const subject = await fresh();
      const owner = `owner-${randomUUID()}`;
      const other = `other-${randomUUID()}`;
      for (const userId of [owner, other, other]) await deploymentIn(subject, 'RUNNING', { userId });
      const othersToken = (await subject.repository.listActiveByOwner(other, { limit: 1 })).nextToken!;
      const historyToken = (await subject.repository.listByOwner(other, { limit: 1 })).nextToken!;

      await expect(subject.repository.listActiveByOwner(owner, { nextToken: othersToken })).rejects.toBeInstanceOf(InvalidPageTokenError);
      await expect(subject.repository.listActiveByOwner(other, { nextToken: historyToken })).rejects.toBeInstanceOf(InvalidPageTokenError);
    });
  });

  describe('listing by owner', () => {
    async function history(subject: Subject) {
      const owner = `owner-${randomUUID()}`;
      const made: Deployment[] = [];
      for (const [day, projectId, status] of [[1, 'alpha', 'RUNNING'], [2, 'beta', 'PENDING'], [3, 'alpha', 'PENDING'], [4, 'alpha', 'RUNNING'], [5, 'alpha', 'PENDING']] as const) {
        made.push(await deploymentIn(subject, status, { userId: owner, projectId, createdAt: `2030-01-0${day}T00:00:00.000Z` }));
      }
      await deploymentIn(subject, 'RUNNING', { userId: `other-${randomUUID()}`, createdAt: '2030-01-09T00:00:00.000Z' });
      return { owner, ids: made.map((deployment) => deployment.deploymentId) };
    }

    it("lists only the caller's deployments, newest first, and by project", async () => {
      const subject = await fresh();
      const { owner, ids } = await history(subject);

      const all = await subject.repository.listByOwner(owner);
      const alpha = await subject.repository.listByOwner(owner, { projectId: 'alpha' });

      expect(all.items.map((item) => item.deploymentId)).toEqual([...ids].reverse());
      expect(alpha.items.map((item) => item.deploymentId)).toEqual([ids[4], ids[3], ids[2], ids[0]]);
    });

    it('pages with nextToken; a page filled exactly still ends with a token, and the page after it is empty', async () => {
      const subject = await fresh();
      const { owner, ids } = await history(subject);

      const first = await subject.repository.listByOwner(owner, { limit: 3 });
      const second = await subject.repository.listByOwner(owner, { limit: 2, nextToken: first.nextToken! });
      const third = await subject.repository.listByOwner(owner, { limit: 2, nextToken: second.nextToken! });

      expect(first.items.map((item) => item.deploymentId)).toEqual([ids[4], ids[3], ids[2]]);
      expect(second.items.map((item) => item.deploymentId)).toEqual([ids[1], ids[0]]);
      expect(second.nextToken).toEqual(expect.any(String));
      expect(third).toEqual({ items: [] });
    });

    it('filters by status after reading, reading on until the page is full', async () => {
      const subject = await fresh();
      const { owner, ids } = await history(subject);

      const first = await subject.repository.listByOwner(owner, { statuses: ['RUNNING'], limit: 1 });
      const second = await subject.repository.listByOwner(owner, { statuses: ['RUNNING'], limit: 1, nextToken: first.nextToken! });
      const alphaRunning = await subject.repository.listByOwner(owner, { projectId: 'alpha', statuses: ['RUNNING'] });

      expect(first.items.map((item) => item.deploymentId)).toEqual([ids[3]]);
      expect(second.items.map((item) => item.deploymentId)).toEqual([ids[0]]);
      expect(alphaRunning.items.map((item) => item.deploymentId)).toEqual([ids[3], ids[0]]);
    });

    it("refuses another caller's token, a token of another listing and a malformed one with InvalidPageTokenError", async () => {
      const subject = await fresh();
      const { owner } = await history(subject);
      const other = `other-${randomUUID()}`;
      await deploymentIn(subject, 'PENDING', { userId: other });
      await deploymentIn(subject, 'PENDING', { userId: other });
      const othersToken = (await subject.repository.listByOwner(other, { limit: 1 })).nextToken!;
      const projectToken = (await subject.repository.listByOwner(owner, { projectId: 'alpha', limit: 1 })).nextToken!;

      await expect(subject.repository.listByOwner(owner, { nextToken: othersToken })).rejects.toBeInstanceOf(InvalidPageTokenError);
      await expect(subject.repository.listByOwner(owner, { nextToken: projectToken })).rejects.toBeInstanceOf(InvalidPageTokenError);
      await expect(subject.repository.listByOwner(owner, { nextToken: 'not a token' })).rejects.toBeInstanceOf(InvalidPageTokenError);
      await expect(subject.repository.listActiveExpiringBefore(new Date(), { nextToken: othersToken })).rejects.toBeInstanceOf(InvalidPageTokenError);
    });
  });

  describe('sandbox ownership', () => {
    it('knows no owner of a sandbox nobody recorded', async () => {
      const { ownership } = await fresh();

      expect(await ownership.ownerOf(`sbx-${randomUUID()}`)).toBeUndefined();
    });

    it('records the creator as the owner, once: the same record again is a no-op, another creator does not take it', async () => {
      const { ownership } = await fresh();
      const sandboxId = `sbx-${randomUUID()}`;

      await ownership.recordOwner(sandboxId, 'creator', '2030-01-01T01:00:00.000Z');
      await ownership.recordOwner(sandboxId, 'creator', '2030-01-01T01:00:00.000Z');
      await ownership.recordOwner(sandboxId, 'someone-else', '2030-01-01T01:00:00.000Z');

      expect(await ownership.ownerOf(sandboxId)).toBe('creator');
    });

    it('hands a sandbox over only from its owner', async () => {
      const { ownership } = await fresh();
      const sandboxId = `sbx-${randomUUID()}`;
      await ownership.recordOwner(sandboxId, 'first', '2030-01-01T01:00:00.000Z');

      const fromAnother = await ownership.handOver(sandboxId, 'not-the-owner', 'thief');
      const fromTheOwner = await ownership.handOver(sandboxId, 'first', 'second');
      const again = await ownership.handOver(sandboxId, 'first', 'third');
      const onward = await ownership.handOver(sandboxId, 'second', 'third');

      expect([fromAnother, fromTheOwner, again, onward]).toEqual([false, true, false, true]);
      expect(await ownership.ownerOf(sandboxId)).toBe('third');
    });

    it('hands over a sandbox with no recorded owner (its creator owns it) once', async () => {
      const { ownership } = await fresh();
      const sandboxId = `sbx-${randomUUID()}`;

      const first = await ownership.handOver(sandboxId, 'creator', 'redeploy');
      const second = await ownership.handOver(sandboxId, 'creator', 'another-redeploy');

      expect([first, second]).toEqual([true, false]);
      expect(await ownership.ownerOf(sandboxId)).toBe('redeploy');
    });

    it('gives a sandbox to exactly one of many concurrent hand-overs', async () => {
      const { ownership } = await fresh();
      const sandboxId = `sbx-${randomUUID()}`;
      await ownership.recordOwner(sandboxId, 'first', '2030-01-01T01:00:00.000Z');
      const takers = Array.from({ length: 6 }, (_, index) => `redeploy-${index}`);

      const answers = await Promise.all(takers.map((taker) => ownership.handOver(sandboxId, 'first', taker)));

      expect(answers.filter(Boolean)).toHaveLength(1);
      expect(await ownership.ownerOf(sandboxId)).toBe(takers[answers.indexOf(true)]);
    });

    it('keeps a handed-over sandbox with its new owner when its creator records it again (a retried create step)', async () => {
      const { ownership } = await fresh();
      const sandboxId = `sbx-${randomUUID()}`;
      await ownership.recordOwner(sandboxId, 'creator', '2030-01-01T01:00:00.000Z');
      await ownership.handOver(sandboxId, 'creator', 'redeploy');

      await ownership.recordOwner(sandboxId, 'creator', '2030-01-01T01:00:00.000Z');

      expect(await ownership.ownerOf(sandboxId)).toBe('redeploy');
    });
  });

  describe('sweep bookkeeping', () => {
    it('grants a claim to exactly one caller until it expires, then to the next', async () => {
      const { bookkeeping, clock } = await fresh();

      const first = await bookkeeping.claim('end#a#1', 60);
      const whileHeld = await bookkeeping.claim('end#a#1', 60);
      const other = await bookkeeping.claim('end#b#1', 60);
      clock.advanceSeconds(60);
      const atExpiry = await bookkeeping.claim('end#a#1', 60);
      clock.advanceSeconds(1);
      const afterExpiry = await bookkeeping.claim('end#a#1', 60);

      expect([first, whileHeld, other, atExpiry, afterExpiry]).toEqual([true, false, true, false, true]);
    });

    it('gives one claim of many concurrent callers', async () => {
      const { bookkeeping } = await fresh();

      const answers = await Promise.all(Array.from({ length: 8 }, () => bookkeeping.claim('kill-orphan#sbx', 600)));

      expect(answers.filter(Boolean)).toHaveLength(1);
    });

    it('keeps a cursor per name until it is cleared', async () => {
      const { bookkeeping } = await fresh();

      await bookkeeping.putCursor('lost', 'token-1');
      const kept = await bookkeeping.getCursor('lost');
      const unknown = await bookkeeping.getCursor('other');
      await bookkeeping.putCursor('lost', undefined);

      expect([kept, unknown, await bookkeeping.getCursor('lost')]).toEqual(['token-1', undefined, undefined]);
    });
  });
});
