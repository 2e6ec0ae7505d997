/**
 * The no-leak invariant every end-to-end file ends with must be able to fail: a sandbox no record
 * names, and a process running as a sandbox uid that no sandbox holds, are both caught.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/agentsphere-provider.ts';
import { MANAGED_BY } from '../../functions/shared/deployments/app-layout.ts';
import { UID_BASE, UID_POOL } from '../../infra/local/sandbox-host/bubblewrap/sandbox-leases.ts';
import { startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';

let fixture: StackFixture;
let provider: AgentSphereProvider;

beforeAll(async () => {
  fixture = await startStackFixture();
  provider = new AgentSphereProvider({ apiKey: fixture.stack.sandboxHost!.apiKey, domain: fixture.stack.sandboxHost!.domain });
});

afterAll(async () => {
  await fixture?.stop();
});

describe('the no-leak invariant', () => {
  it('holds on a stack with nothing running', async () => {
    // Act
    const check = expectNoLeaks(fixture.stack);

    // Assert
    await expect(check).resolves.toBeUndefined();
  });

  it('fails on a live sandbox that no active record names', async () => {
    // Prepare
    const sandbox = await provider.create({
      metadata: { userId: 'u', projectId: 'p', deploymentId: 'never-recorded', managedBy: MANAGED_BY },
      lifetimeSeconds: 120,
    });
    try {
      // Act
      const check = expectNoLeaks(fixture.stack);

      // Assert
      await expect(check).rejects.toThrow(/live sandboxes at the provider vs sandboxes of active records/);
    } finally {
      await provider.kill(sandbox.sandboxId);
    }
  });

  it.skipIf(process.getuid?.() !== 0)('fails on a process running as a sandbox uid that no sandbox holds', async () => {
    // Prepare: the last uid of the pool, which no lease claims while this runs
    const uid = UID_BASE + UID_POOL - 1;
    const stray: ChildProcess = spawn('sleep', ['60'], { uid, gid: uid, stdio: 'ignore' });
    await new Promise((resolve, reject) => stray.once('spawn', resolve).once('error', reject));
    try {
      // Act
      const failure = (await expectNoLeaks(fixture.stack, { settleMs: 1_000 }).catch((error: unknown) => error)) as { message: string; actual?: unknown } | undefined;

      // Assert: the problem names the process
      expect(failure?.message).toMatch(/what the machine shows beyond the live sandboxes/);
      expect(JSON.stringify(failure?.actual)).toMatch(new RegExp(`runs as sandbox uid ${uid}, which no lease names`));
    } finally {
      stray.kill('SIGKILL');
    }
  }, 30_000);
});
