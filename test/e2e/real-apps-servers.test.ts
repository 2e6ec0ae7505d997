/**
 * Real apps, as users have them, deploy with zero options through the HTTP API and serve their
 * own page at their url: servers (Express with only a yarn.lock, Fastify bound to 127.0.0.1, the
 * fastify-cli starter, a pnpm project), a static site, a Procfile app and a Python app.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { expectDeploysWithNoOptions, REAL_APP_TIMEOUT_MS } from './real-apps.ts';

let fixture: StackFixture;

beforeAll(async () => {
  fixture = await startStackFixture({ environment: { HEALTH_TIMEOUT_SECONDS: '30' } });
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

describe('real apps with zero options', { timeout: REAL_APP_TIMEOUT_MS }, () => {
  it.each(['express-yarn', 'fastify-localhost', 'fastify-cli', 'pnpm-app', 'static-site', 'procfile-app', 'python-stdlib'])(
    '%s reaches RUNNING and serves its own page',
    (name) => expectDeploysWithNoOptions(fixture.api, name),
  );
});
