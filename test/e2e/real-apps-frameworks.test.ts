/**
 * Real apps made by the official scaffolders deploy with zero options through the HTTP API and
 * serve their own page at their url: the create-vite React template, the Nest starter, a
 * create-next-app app and a Hono TypeScript server, each installed and built in the sandbox.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { expectDeploysWithNoOptions, REAL_APP_TIMEOUT_MS } from './real-apps.ts';

let fixture: StackFixture;

beforeAll(async () => {
  fixture = await startStackFixture({ environment: { HEALTH_TIMEOUT_SECONDS: '60' } });
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

describe('scaffolded apps with zero options', { timeout: REAL_APP_TIMEOUT_MS }, () => {
  it.each(['vite-react', 'nest', 'next', 'hono-ts'])('%s reaches RUNNING and serves its own page', (name) =>
    expectDeploysWithNoOptions(fixture.api, name),
  );
});
