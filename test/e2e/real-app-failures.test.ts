/**
 * Real apps that fail for one clear cause: each deployment ends FAILED with a message that names
 * the cause (and a hint where it is known), its sandbox is gone, and its logs stay readable.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failingApp, failingFiles } from '../support/app-corpus.ts';
import { liveSandboxesOf, startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';

let fixture: StackFixture;

beforeAll(async () => {
  fixture = await startStackFixture({ environment: { HEALTH_TIMEOUT_SECONDS: '20' } });
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

async function deployFailing(name: string, options: Record<string, unknown> = {}) {
  const app = failingApp(name);
  const accepted = await fixture.api.deploy({ projectId: `failing-${name}`, files: await failingFiles(app), options });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  const failed = await fixture.api.waitForStatus(accepted.body.deploymentId, ['FAILED', 'RUNNING'], 120_000);
  return { app, failed };
}

const STEP_OF: Record<string, string> = { install: 'start', start: 'health', health: 'health' };

describe('apps that fail for one clear cause', { timeout: 150_000 }, () => {
  it.each([
    ['missing-dependency', {}, 'AppExitedError', 'hint: the dependency "express" is not installed'],
    ['unknown-command', {}, 'AppExitedError', 'hint: the command "serve-it-now" does not exist in the sandbox'],
    ['crash-after-2s', {}, 'AppExitedError', 'the app exited before it became healthy'],
    ['install-fails', {}, 'InstallFailedError', 'hint: a dependency version does not exist on the npm registry'],
    ['host-check-403', {}, 'AppUnhealthyError', "hint: the app refuses the sandbox's host name"],
    // The caller fixed the port: the deployment keeps it, and says where the app listens instead.
    ['wrong-port', { port: 3000 }, 'AppUnhealthyError', 'not on port 3000: listen on $PORT, or set options.port to 8123'],
  ])('%s ends FAILED naming its cause', async (name, options, errorName, hint) => {
    // Act
    const { app, failed } = await deployFailing(name, options);

    // Assert
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ step: STEP_OF[app.failsAt], name: errorName });
    expect(failed.error.message).toContain(hint);
    for (const text of app.messageContains) expect(failed.error.message).toContain(text);
    expect(liveSandboxesOf(fixture.stack, failed.deploymentId)).toEqual([]);
  });

  it('keeps the logs of a failed deployment readable, marked as saved', async () => {
    // Prepare
    const { failed } = await deployFailing('crash-after-2s');

    // Act
    const logs = await fixture.api.request('GET', `/deployments/${failed.deploymentId}/logs`);

    // Assert
    expect(logs.status).toBe(200);
    expect(logs.body.saved).toMatchObject({ endedAs: 'FAILED' });
    const lines = logs.body.lines.map((entry: { source: string; line: string }) => `${entry.source} ${entry.line}`);
    expect(lines).toContain('app crash-after-2s: connecting to the database...');
    expect(lines.some((line: string) => line.startsWith('app-error') && line.includes('the database connection was lost'))).toBe(true);
  });

  it("uses the port an app really listens on when the caller gave none, and says so", async () => {
    // Prepare: wrong-port listens on 8123 whatever PORT says
    const app = failingApp('wrong-port');

    // Act
    const accepted = await fixture.api.deploy({ projectId: 'adopts-port', files: await failingFiles(app) });
    const final = await fixture.api.waitForStatus(accepted.body.deploymentId, ['FAILED', 'RUNNING'], 60_000);
    await fixture.api.delete(accepted.body.deploymentId);

    // Assert
    expect(final.status, final.error?.message).toBe('RUNNING');
    expect(final.options.port).toBe(8123);
    expect(final.plan.port.reason).toMatch(/8123/);
  });
});
