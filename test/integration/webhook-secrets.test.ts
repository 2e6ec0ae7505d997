/**
 * The users' webhook secrets in their table (dynalite, the table from the CDK template): made once on first use, whatever races; rotated with the previous one signing for a day.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbWebhookSecrets } from '../../functions/shared/adapters/dynamodb-webhook-secrets.ts';
import { rotateWebhookSecret, signingSecrets, webhookSecretOf, webhookSecretView } from '../../functions/shared/webhooks/webhook-secret.ts';
import { createTableInput, ensureTable, startLocalDynamoDb, type LocalDynamoDb } from '../../infra/local/aws/local-dynamodb.ts';

const TABLE_NAME = 'secrets-test-webhook-secrets';
let dynamoDb: LocalDynamoDb;
let client: DynamoDBClient;
let secrets: DynamoDbWebhookSecrets;

beforeAll(async () => {
  const { template, logicalIds } = inject('synthesizedStack');
  dynamoDb = await startLocalDynamoDb();
  client = new DynamoDBClient({ endpoint: dynamoDb.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await ensureTable(client, createTableInput(template, logicalIds.webhookSecretsTable, TABLE_NAME));
  secrets = new DynamoDbWebhookSecrets({ client, tableName: TABLE_NAME });
});

afterAll(async () => {
  client?.destroy();
  await dynamoDb?.close();
});

describe('webhook secrets', () => {
  it('makes one secret for a user however many first uses race', async () => {
    // Prepare
    const userId = `user-${randomUUID()}`;

    // Act
    const answers = await Promise.all(Array.from({ length: 10 }, () => webhookSecretOf(secrets, userId)));

    // Assert
    expect(new Set(answers.map((answer) => answer.secret)).size).toBe(1);
    expect(answers[0]!.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect((await secrets.get(userId))?.secret).toBe(answers[0]!.secret);
  });

  it('gives each user a secret of their own', async () => {
    const [first, second] = await Promise.all([webhookSecretOf(secrets, `user-${randomUUID()}`), webhookSecretOf(secrets, `user-${randomUUID()}`)]);

    expect(first.secret).not.toBe(second.secret);
  });

  it('signs with the new and the previous secret for a day after a rotation, then with the new one only', async () => {
    // Prepare
    const userId = `user-${randomUUID()}`;
    const now = new Date('2030-01-01T00:00:00.000Z');
    const before = await webhookSecretOf(secrets, userId, now);

    // Act
    const rotated = await rotateWebhookSecret(secrets, userId, now);

    // Assert
    expect(rotated.secret).not.toBe(before.secret);
    expect(signingSecrets(rotated, new Date('2030-01-01T23:00:00.000Z'))).toEqual([rotated.secret, before.secret]);
    expect(signingSecrets(rotated, new Date('2030-01-02T01:00:00.000Z'))).toEqual([rotated.secret]);
    expect(webhookSecretView((await secrets.get(userId))!, now)).toEqual({
      secret: rotated.secret,
      createdAt: now.toISOString(),
      previousSecretValidUntil: '2030-01-02T00:00:00.000Z',
    });
  });

  it('refuses a rotation based on a secret that changed meanwhile', async () => {
    // Prepare
    const userId = `user-${randomUUID()}`;
    const stale = await webhookSecretOf(secrets, userId);
    await rotateWebhookSecret(secrets, userId);

    // Act
    const replaced = await secrets.replace(userId, stale, { secret: 'whsec_x', createdAt: new Date().toISOString() });

    // Assert
    expect(replaced).toBe(false);
  });
});
