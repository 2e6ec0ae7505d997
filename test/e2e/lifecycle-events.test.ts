/**
 * Lifecycle events end to end, every local component real: each status change reaches a signed
 * webhook on a loopback receiver and the events route; a receiver that fails is retried without
 * holding the saga up; a callbackUrl to a metadata or link-local address is refused.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentEvent } from '../../functions/shared/deployments/events/deployment-event.ts';
import { REPLAY_TOLERANCE_SECONDS, verifySignature } from '../../functions/shared/webhooks/signature.ts';
import { startStackFixture, type ApiClient, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles } from '../support/project-files.ts';

let fixture: StackFixture;
/** Closed after the stack: late retries of a test's events still find their receiver. */
const receivers: Server[] = [];

beforeAll(async () => {
  fixture = await startStackFixture({
    // Short backoffs, so the retries happen while the test watches (Lambda waits a minute).
    environment: { WEBHOOK_ATTEMPTS: '3', WEBHOOK_RETRY_DELAY_MS: '20' },
    eventRetryDelayMs: 200,
  });
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
  await Promise.all(receivers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
});

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  receivedAt: number;
  answered: number;
}

/** A webhook receiver on loopback: it keeps every request and answers what `answer` says. */
async function startReceiver(answer: (delivery: Omit<Delivery, 'answered'>, earlier: Delivery[]) => number) {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const delivery = { headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), receivedAt: Date.now() };
      const status = answer(delivery, deliveries);
      deliveries.push({ ...delivery, answered: status });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receivers.push(server);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/coderunner-hook`;
  return { url, deliveries };
}

async function deployWithCallback(api: ApiClient, callbackUrl: string, projectId: string) {
  const accepted = await api.deploy({
    projectId,
    files: await projectFiles('hello-node'),
    options: { startCommand: 'node server.js', callbackUrl },
  });
  expect(accepted.status).toBe(202);
  return accepted.body.deploymentId as string;
}

/** Polls `read` until `done` holds or the deadline passes; answers the last value. */
async function eventually<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await sleep(50);
  }
}

function eventOf(delivery: Delivery): DeploymentEvent {
  return JSON.parse(delivery.body) as DeploymentEvent;
}

/** The distinct events delivered (at least once: the same eventId may come again), oldest first. */
function deliveredEvents(deliveries: Delivery[], deploymentId: string): DeploymentEvent[] {
  const byId = new Map<string, DeploymentEvent>();
  for (const delivery of deliveries.filter((candidate) => candidate.answered < 300)) {
    const event = eventOf(delivery);
    if (event.deploymentId === deploymentId) byId.set(event.eventId, event);
  }
  return [...byId.values()].sort((a, b) => a.time.localeCompare(b.time) || a.version - b.version);
}

const LIFE: readonly string[] = ['PENDING', 'CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING', 'STOPPING', 'TERMINATED'];

describe('signed webhooks', () => {
  it('delivers every status from PENDING to TERMINATED, in order, each signed with the caller\'s secret and freshly timestamped', async () => {
    // Prepare
    const receiver = await startReceiver(() => 200);
    const { body: secret } = await fixture.api.request('GET', '/webhook-secret');
    const deploymentId = await deployWithCallback(fixture.api, receiver.url, 'webhook-life');
    await fixture.api.waitForStatus(deploymentId, ['RUNNING']);

    // Act
    await fixture.api.delete(deploymentId);
    const events = await eventually(() => deliveredEvents(receiver.deliveries, deploymentId), (found) => found.length >= LIFE.length);

    // Assert: every delivery verifies as a receiver would check it
    const ours = receiver.deliveries.filter((delivery) => eventOf(delivery).deploymentId === deploymentId);
    for (const delivery of ours) {
      const check = verifySignature(delivery.headers['x-coderunner-signature'] as string, delivery.body, secret.secret, { now: delivery.receivedAt });
      expect(check).toMatchObject({ valid: true });
      expect(Math.abs(delivery.receivedAt / 1000 - (check as { timestamp: number }).timestamp)).toBeLessThan(REPLAY_TOLERANCE_SECONDS);
      expect(delivery.headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': 'CodeRunner-Webhook/1.0',
        'x-coderunner-event': 'Deployment Status Changed',
        'x-coderunner-event-id': eventOf(delivery).eventId,
      });
    }
    expect(events.map((event) => event.status)).toEqual(LIFE);
    expect(events.map((event) => event.previousStatus)).toEqual([null, ...LIFE.slice(0, -1)]);
    expect(events.find((event) => event.status === 'RUNNING')).toMatchObject({ url: expect.stringMatching(/^http/), sandboxId: expect.any(String) });
    expect(ours.some((delivery) => delivery.body.includes('callbackUrl') || delivery.body.includes(secret.secret))).toBe(false);
  });

  it('fails the check of a receiver holding another user\'s secret', async () => {
    // Prepare
    const receiver = await startReceiver(() => 200);
    const stranger = await fixture.apiAs('webhook-stranger');
    const { body: strangersSecret } = await stranger.request('GET', '/webhook-secret');
    const deploymentId = await deployWithCallback(fixture.api, receiver.url, 'webhook-other-secret');

    // Act
    const [first] = await eventually(() => receiver.deliveries.filter((delivery) => eventOf(delivery).deploymentId === deploymentId), (found) => found.length > 0);
    await fixture.api.waitForStatus(deploymentId, ['RUNNING']);
    await fixture.api.delete(deploymentId);

    // Assert
    expect(verifySignature(first!.headers['x-coderunner-signature'] as string, first!.body, strangersSecret.secret, { now: first!.receivedAt }).valid).toBe(false);
  });

  it('retries a receiver that answers 500 until it answers 200, with the same event id and a fresh signature each time', async () => {
    // Prepare: four 500s per event: the invocation's three attempts fail, then Lambda's retry succeeds at its second
    const receiver = await startReceiver((delivery, earlier) => {
      const id = delivery.headers['x-coderunner-event-id'];
      return earlier.filter((previous) => previous.headers['x-coderunner-event-id'] === id).length < 4 ? 500 : 200;
    });
    const { body: secret } = await fixture.api.request('GET', '/webhook-secret');
    const deploymentId = await deployWithCallback(fixture.api, receiver.url, 'webhook-retry');

    // Act
    await fixture.api.waitForStatus(deploymentId, ['RUNNING']);
    const pendingId = `${deploymentId}:PENDING`;
    const attempts = await eventually(
      () => receiver.deliveries.filter((delivery) => delivery.headers['x-coderunner-event-id'] === pendingId),
      (found) => found.some((delivery) => delivery.answered === 200),
    );
    await fixture.api.delete(deploymentId);

    // Assert
    expect(attempts.map((delivery) => delivery.answered)).toEqual([500, 500, 500, 500, 200]);
    expect(attempts.every((delivery) => verifySignature(delivery.headers['x-coderunner-signature'] as string, delivery.body, secret.secret, { now: delivery.receivedAt }).valid)).toBe(true);
    expect(new Set(attempts.map((delivery) => delivery.body)).size).toBe(1);
  });

  it('reaches RUNNING while the receiver answers nothing but 500, and dead-letters the events no retry delivered', async () => {
    // Prepare
    const receiver = await startReceiver(() => 500);

    // Act
    const deploymentId = await deployWithCallback(fixture.api, receiver.url, 'webhook-down');
    const running = await fixture.api.waitForStatus(deploymentId, ['RUNNING', 'FAILED']);
    const deadLetters = await eventually(
      () => fixture.stack.eventBridge.deadLetters.filter((letter) => letter.event.detail.deploymentId === deploymentId),
      (found) => found.some((letter) => letter.event.detail.status === 'RUNNING'),
    );
    await fixture.api.delete(deploymentId);

    // Assert
    expect(running.status).toBe('RUNNING');
    expect(receiver.deliveries.every((delivery) => delivery.answered === 500)).toBe(true);
    // Each event: three attempts per invocation, one invocation and Lambda's two retries.
    const runningAttempts = receiver.deliveries.filter((delivery) => delivery.headers['x-coderunner-event-id'] === `${deploymentId}:RUNNING`);
    expect(runningAttempts).toHaveLength(9);
    expect(deadLetters.find((letter) => letter.event.detail.status === 'RUNNING')?.error).toMatch(/WebhookDeliveryFailedError: .*the receiver answered 500/);
  });
});

describe('GET /deployments/{id}/events', () => {
  it('lists the status changes of a deployment, oldest first, with or without a callbackUrl', async () => {
    // Prepare
    const accepted = await fixture.api.deploy({ projectId: 'events-route', files: await projectFiles('hello-node'), options: { startCommand: 'node server.js' } });
    const deploymentId = accepted.body.deploymentId as string;
    await fixture.api.waitForStatus(deploymentId, ['RUNNING']);
    await fixture.api.delete(deploymentId);

    // Act
    const answer = await eventually(
      () => fixture.api.request('GET', `/deployments/${deploymentId}/events`),
      (found) => found.body?.items?.length >= LIFE.length,
    );

    // Assert
    expect(answer.status).toBe(200);
    expect(answer.body.items.map((event: DeploymentEvent) => event.status)).toEqual(LIFE);
    expect(answer.body.items[0]).toMatchObject({ eventId: `${deploymentId}:PENDING`, deploymentId, projectId: 'events-route', userId: 'test-user', previousStatus: null });
  });

  it('records the failure of a deployment that fails, with the failed step and the error, after the kill step', async () => {
    // Prepare
    const accepted = await fixture.api.deploy({ projectId: 'events-failing', files: await projectFiles('hello-node'), options: { startCommand: 'node no-such-file.js' } });
    const deploymentId = accepted.body.deploymentId as string;
    const failed = await fixture.api.waitForStatus(deploymentId, ['FAILED']);

    // Act
    const answer = await eventually(
      () => fixture.api.request('GET', `/deployments/${deploymentId}/events`),
      (found) => found.body?.items?.some((event: DeploymentEvent) => event.status === 'FAILED'),
    );

    // Assert
    const items = answer.body.items as DeploymentEvent[];
    expect(items.map((event) => event.status).slice(0, 4)).toEqual(['PENDING', 'CREATING', 'UPLOADING', 'STARTING']);
    expect(items.at(-1)).toMatchObject({ status: 'FAILED', previousStatus: items.at(-2)!.status, step: failed.error.step, error: failed.error });
    expect(failed.error.name).toMatch(/^(StartFailedError|AppExitedError)$/);
  });

  it("answers 404 for another user's deployment", async () => {
    // Prepare
    const accepted = await fixture.api.deploy({ projectId: 'events-private', files: await projectFiles('hello-node'), options: { startCommand: 'node server.js' } });
    const stranger = await fixture.apiAs('events-stranger');

    // Act
    const answer = await stranger.request('GET', `/deployments/${accepted.body.deploymentId}/events`);

    // Assert
    expect(answer.status).toBe(404);
    await fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED']);
    await fixture.api.delete(accepted.body.deploymentId);
  });
});

describe('the webhook secret routes', () => {
  it('answer the same secret until it is rotated, and then a new one with the previous still valid', async () => {
    // Prepare
    const api = await fixture.apiAs('rotating-user');
    const first = await api.request('GET', '/webhook-secret');

    // Act
    const again = await api.request('GET', '/webhook-secret');
    const rotated = await api.request('POST', '/webhook-secret/rotate');
    const after = await api.request('GET', '/webhook-secret');

    // Assert
    expect(first.headers.get('cache-control')).toBe('no-store');
    expect(again.body.secret).toBe(first.body.secret);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(first.body.secret);
    expect(after.body).toEqual(rotated.body);
    expect(Date.parse(rotated.body.previousSecretValidUntil)).toBeGreaterThan(Date.now());
  });
});

describe('callbackUrl validation', () => {
  it.each([
    ['the metadata address', 'http://169.254.169.254/latest/meta-data/', /cloud metadata/],
    ['the IPv6 metadata address', 'http://[fd00:ec2::254]/', /cloud metadata/],
    ['a link-local address', 'http://169.254.1.1:8080/hook', /link-local/],
    ['a private address', 'https://10.0.0.8/hook', /private/],
    ['userinfo', 'https://user:pass@hooks.example.com/', /userinfo/],
    ['http to a host that is not loopback', 'http://hooks.example.com/', /http only to a loopback address/],
  ])('answers 400 naming options.callbackUrl for %s, and creates nothing', async (_name, callbackUrl, rule) => {
    // Prepare
    const before = await fixture.api.request('GET', '/deployments?projectId=bad-callback');

    // Act
    const answer = await fixture.api.deploy({ projectId: 'bad-callback', files: await projectFiles('hello-node'), options: { startCommand: 'node server.js', callbackUrl } });

    // Assert
    expect(answer.status).toBe(400);
    expect(answer.body.errors).toContainEqual({ field: 'options.callbackUrl', rule: expect.stringMatching(rule), message: expect.stringMatching(/^options\.callbackUrl must/) });
    expect((await fixture.api.request('GET', '/deployments?projectId=bad-callback')).body.items).toEqual(before.body.items);
  });
});
