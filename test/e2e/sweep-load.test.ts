/**
 * Load: 20 deployments at once while the sweep runs every second. Every deployment settles, and
 * the provider's live sandboxes always equal the sandboxes of active records.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles } from '../support/project-files.ts';

let fixture: StackFixture;

beforeAll(async () => {
  // 20 sandboxes start at once on 2 cores: give their apps more than the usual 5 s to answer.
  fixture = await startStackFixture({ sweepIntervalMs: 1_000, environment: { SWEEP_ORPHAN_GRACE_SECONDS: '0', HEALTH_TIMEOUT_SECONDS: '60' } });
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

describe('many deployments while sweeps run', () => {
  it('settles 20 parallel deployments with no sandbox leaked or lost, before and after deleting them', async () => {
    // Prepare
    const files = await projectFiles('hello-node');
    
    // Act: deploy 20 at once, wait for each to settle, check, then delete them all
    const accepted = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        fixture.api.deploy({ projectId: `load-${index}`, files, options: { port: 3000, startCommand: 'node server.js' } }),
      ),
    );
    const settled = await Promise.all(
      accepted.map((answer) => fixture.api.waitForStatus(answer.body.deploymentId, ['RUNNING', 'FAILED', 'EXPIRED', 'LOST'], 90_000)),
    );
    await expectNoLeaks(fixture.stack);
    const deleted = await Promise.all(accepted.map((answer) => fixture.api.delete(answer.body.deploymentId)));
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // a couple more sweeps

    // Assert
    expect(settled.map((deployment) => deployment.status)).toEqual(Array(20).fill('RUNNING'));
    expect(deleted.map((answer) => answer.body.status)).toEqual(Array(20).fill('TERMINATED'));
    expect(fixture.stack.sandboxHost!.registry.list()).toEqual([]);
  }, 150_000);
});
