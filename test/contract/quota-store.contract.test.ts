/**
 * Contract of the quota store, run against the in-memory fake the unit tests use AND the DynamoDB
 * adapter on dynalite (its table from the CDK stack's own definition, a fresh table per test), so
 * the fake cannot drift from the adapter: slots taken, given back and moved under the same
 * conditions, the same per-minute counts, the same limits read back.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbQuotaStore } from '../../functions/shared/adapters/dynamodb-quota-store.ts';
import type { QuotaStore } from '../../functions/shared/deployments/ports.ts';
import { createTableInput, ensureTable, startLocalDynamoDb, type LocalDynamoDb } from '../../infra/local/aws/local-dynamodb.ts';
import { FakeClock } from '../support/fakes/fake-clock.ts';
import { MemoryQuotaStore } from '../support/fakes/memory-quota-store.ts';

const START = '2030-01-01T00:00:00.000Z';
const MINUTE = '2030-01-01T00:00';

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
  quotas: QuotaStore;
  clock: FakeClock;
  /** What an operator writes as a user's own limits. */
  setLimits(userId: string, limits: Record<string, unknown>): Promise<void>;
}

const IMPLEMENTATIONS: [string, () => Promise<Subject>][] = [
  [
    'in-memory fake',
    async () => {
      const clock = new FakeClock(START);
      const quotas = new MemoryQuotaStore({ now: clock.now });
      return { quotas, clock, setLimits: async (userId, limits) => quotas.setLimits(userId, limits) };
    },
  ],
  [
    'DynamoDB adapter on dynalite',
    async () => {
      const { template, logicalIds } = inject('synthesizedStack');
      const tableName = `quota-contract-${randomUUID()}`;
      await ensureTable(client, createTableInput(template, logicalIds.deploymentsTable, tableName));
      const clock = new FakeClock(START);
      const documents = DynamoDBDocumentClient.from(client);
      return {
        quotas: new DynamoDbQuotaStore({ client, tableName, now: clock.now }),
        clock,
        // As the operator does it (and the e2e tests): one item per user.
        setLimits: async (userId, limits) => {
          await documents.send(new PutCommand({ TableName: tableName, Item: { pk: `QUOTA#${userId}`, sk: 'LIMITS', ...limits } }));
        },
      };
    },
  ],
];

describe.each(IMPLEMENTATIONS)('%s', (_name, makeSubject) => {
  beforeAll(async () => {
    // One warm-up store: the first table creation of a run is the slow one.
    await makeSubject();
  });

  const user = () => `user-${randomUUID()}`;

  describe('counted slots', () => {
    it('takes a slot below the limit for a holder, stamped with when it was taken', async () => {
      const { quotas } = await makeSubject();
      const userId = user();

      const slot = await quotas.takeSlot(userId, 'liveSandboxes', 3, 'dep-1');

      expect(slot).toBeGreaterThanOrEqual(0);
      expect(slot).toBeLessThan(3);
      expect(await quotas.heldSlots(userId)).toEqual([{ quota: 'liveSandboxes', slot, holder: 'dep-1', heldAt: START }]);
    });

    it('takes exactly the limit under parallel takes, each slot once', async () => {
      const { quotas } = await makeSubject();
      const userId = user();

      const slots = await Promise.all(Array.from({ length: 12 }, (_, index) => quotas.takeSlot(userId, 'deploymentsInFlight', 5, `dep-${index}`)));

      const taken = slots.filter((slot) => slot !== undefined);
      expect(taken).toHaveLength(5);
      expect([...taken].sort()).toEqual([0, 1, 2, 3, 4]);
      expect(await quotas.heldSlots(userId, 'deploymentsInFlight')).toHaveLength(5);
    });

    it('answers undefined when every slot is held, and for a limit of 0', async () => {
      const { quotas } = await makeSubject();
      const userId = user();
      await quotas.takeSlot(userId, 'liveSandboxes', 1, 'dep-1');

      const full = await quotas.takeSlot(userId, 'liveSandboxes', 1, 'dep-2');
      const none = await quotas.takeSlot(user(), 'liveSandboxes', 0, 'dep-3');

      expect([full, none]).toEqual([undefined, undefined]);
    });

    it('answers a retried take with the slot the holder already holds when no other is free', async () => {
      const { quotas } = await makeSubject();
      const userId = user();
      const first = await quotas.takeSlot(userId, 'liveSandboxes', 2, 'dep-1');
      await quotas.takeSlot(userId, 'liveSandboxes', 2, 'dep-2');

      const retried = await quotas.takeSlot(userId, 'liveSandboxes', 2, 'dep-1');

      expect(retried).toBe(first);
      expect(await quotas.heldSlots(userId)).toHaveLength(2);
    });

    it('keeps the quotas and the users apart', async () => {
      const { quotas } = await makeSubject();
      const [one, other] = [user(), user()];

      const live = await quotas.takeSlot(one, 'liveSandboxes', 1, 'dep-1');
      const inFlight = await quotas.takeSlot(one, 'deploymentsInFlight', 1, 'dep-1');
      const othersLive = await quotas.takeSlot(other, 'liveSandboxes', 1, 'dep-2');

      expect([live, inFlight, othersLive]).toEqual([0, 0, 0]);
      expect((await quotas.heldSlots(one)).map((slot) => slot.quota)).toEqual(['deploymentsInFlight', 'liveSandboxes']);
      expect(await quotas.heldSlots(one, 'liveSandboxes')).toEqual([{ quota: 'liveSandboxes', slot: 0, holder: 'dep-1', heldAt: START }]);
      expect((await quotas.heldSlots(other)).map((slot) => slot.holder)).toEqual(['dep-2']);
    });

    it('gives a slot back for its holder only, idempotently, and it can be taken again', async () => {
      const { quotas } = await makeSubject();
      const userId = user();
      const slot = (await quotas.takeSlot(userId, 'liveSandboxes', 1, 'dep-1'))!;

      await quotas.releaseSlot(userId, 'liveSandboxes', slot, 'not-the-holder');
      const afterStranger = await quotas.heldSlots(userId);
      await quotas.releaseSlot(userId, 'liveSandboxes', slot, 'dep-1');
      await quotas.releaseSlot(userId, 'liveSandboxes', slot, 'dep-1');
      const afterHolder = await quotas.heldSlots(userId);
      const retaken = await quotas.takeSlot(userId, 'liveSandboxes', 1, 'dep-2');

      expect(afterStranger.map((held) => held.holder)).toEqual(['dep-1']);
      expect(afterHolder).toEqual([]);
      expect(retaken).toBe(slot);
    });

    it('does not give back a slot someone else holds since (a late release of a reclaimed slot)', async () => {
      const { quotas } = await makeSubject();
      const userId = user();
      const slot = (await quotas.takeSlot(userId, 'liveSandboxes', 1, 'dep-1'))!;
      await quotas.releaseSlot(userId, 'liveSandboxes', slot, 'dep-1');
      await quotas.takeSlot(userId, 'liveSandboxes', 1, 'dep-2');

      await quotas.releaseSlot(userId, 'liveSandboxes', slot, 'dep-1');

      expect((await quotas.heldSlots(userId)).map((held) => held.holder)).toEqual(['dep-2']);
    });

    it('moves a slot only from its holder, restamped', async () => {
      const { quotas, clock } = await makeSubject();
      const userId = user();
      const slot = (await quotas.takeSlot(userId, 'liveSandboxes', 1, 'previous'))!;
      clock.advanceSeconds(30);

      const fromStranger = await quotas.transferSlot(userId, 'liveSandboxes', slot, 'stranger', 'thief');
      const fromHolder = await quotas.transferSlot(userId, 'liveSandboxes', slot, 'previous', 'redeploy');
      const again = await quotas.transferSlot(userId, 'liveSandboxes', slot, 'previous', 'another');
      const ofFreeSlot = await quotas.transferSlot(userId, 'liveSandboxes', slot + 1, 'previous', 'another');

      expect([fromStranger, fromHolder, again, ofFreeSlot]).toEqual([false, true, false, false]);
      expect(await quotas.heldSlots(userId)).toEqual([{ quota: 'liveSandboxes', slot, holder: 'redeploy', heldAt: clock.iso() }]);
    });
  });

  describe('starts per minute', () => {
    it('counts starts in a minute up to the limit, then refuses with the count', async () => {
      const { quotas } = await makeSubject();
      const userId = user();

      const answers = [];
      for (let start = 0; start < 4; start++) answers.push(await quotas.countStart(userId, MINUTE, 3));

      expect(answers).toEqual([
        { counted: true, count: 1 },
        { counted: true, count: 2 },
        { counted: true, count: 3 },
        { counted: false, count: 3 },
      ]);
      expect(await quotas.startsIn(userId, MINUTE)).toBe(3);
    });

    it('counts exactly the limit of parallel starts', async () => {
      const { quotas } = await makeSubject();
      const userId = user();

      const answers = await Promise.all(Array.from({ length: 8 }, () => quotas.countStart(userId, MINUTE, 5)));

      expect(answers.filter((answer) => answer.counted)).toHaveLength(5);
      expect(await quotas.startsIn(userId, MINUTE)).toBe(5);
    });

    it('counts each minute and each user on their own', async () => {
      const { quotas } = await makeSubject();
      const [one, other] = [user(), user()];
      await quotas.countStart(one, MINUTE, 1);

      const nextMinute = await quotas.countStart(one, '2030-01-01T00:01', 1);
      const otherUser = await quotas.countStart(other, MINUTE, 1);

      expect([nextMinute.counted, otherUser.counted]).toEqual([true, true]);
      expect(await quotas.startsIn(one, '2030-01-01T00:02')).toBe(0);
    });

    it('counts no start at all with a limit of 0', async () => {
      const { quotas } = await makeSubject();
      const userId = user();

      const answer = await quotas.countStart(userId, MINUTE, 0);

      expect(answer).toEqual({ counted: false, count: 0 });
    });
  });

  describe("a user's own limits", () => {
    it('has none until an operator writes them', async () => {
      const { quotas } = await makeSubject();

      expect(await quotas.limitsOverride(user())).toBeUndefined();
    });

    it('reads back the numeric limits an operator wrote, and nothing else', async () => {
      const { quotas, setLimits } = await makeSubject();
      const userId = user();
      await setLimits(userId, { liveSandboxes: 0, maxSandboxLifetimeSeconds: 600, deploymentsInFlight: 'many', note: 'a trial user' });

      const limits = await quotas.limitsOverride(userId);

      expect(limits).toEqual({ liveSandboxes: 0, maxSandboxLifetimeSeconds: 600 });
    });
  });
});
