/**
 * The adapter's timeouts and retries fit the invocation's remaining time: a daemon that holds
 * its answer fails the call before the invocation would have timed out, with a named error.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import { startLocalHostFixture, type LocalHostFixture } from '../support/local-sandbox-host.ts';

let fixture: LocalHostFixture;

beforeAll(async () => {
  fixture = await startLocalHostFixture();
});

afterAll(async () => {
  await fixture?.stop();
});

function providerEndingIn(ms: number): AgentSphereProvider {
  const end = Date.now() + ms;
  return new AgentSphereProvider({ apiKey: fixture.host.apiKey, domain: fixture.host.domain, deadline: () => end });
}

describe('calls within the invocation', () => {
  it('gives up on a stalled daemon before the invocation ends, not after its own 30 s timeout', async () => {
    // Prepare: the invocation has 6 s left; the daemon holds every answer for 20 s
    const sandbox = await new AgentSphereProvider({ apiKey: fixture.host.apiKey, domain: fixture.host.domain }).create({
      metadata: { userId: 'u', projectId: 'p', deploymentId: randomUUID() },
      lifetimeSeconds: 120,
    });
    fixture.host.faults.add({ target: 'daemon', pathIncludes: 'process.Process/List', delayMs: 20_000, times: 10 });
    const provider = providerEndingIn(6_000);
    const started = Date.now();

    // Act
    const attempt = (await provider.connect(sandbox.sandboxId)).listProcesses();

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: expect.stringMatching(/^Sandbox(Timeout|Deadline)Error$/) });
    expect(Date.now() - started).toBeLessThan(6_000);
    fixture.host.faults.clear();
    await sandbox.kill();
  });

  it('does not start a call the invocation has no time left for', async () => {
    const provider = providerEndingIn(1_000);

    await expect(provider.isAlive('nothing-here')).rejects.toMatchObject({ name: 'SandboxDeadlineError' });
  });
});
