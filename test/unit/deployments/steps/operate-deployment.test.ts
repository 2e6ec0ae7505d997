/** Operating a live deployment: keep-alive, a live probe, its logs (live or saved). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LifetimeOutOfBoundsError, NoLiveSandboxError } from '../../../../functions/shared/deployments/errors.ts';
import { endDeployment } from '../../../../functions/shared/deployments/steps/end-deployment.ts';
import { deploymentLogs, extendLifetime, liveHealth } from '../../../../functions/shared/deployments/steps/operate-deployment.ts';
import { SandboxNotFoundError, SandboxRateLimitedError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';

const MAX_SECONDS = 86_400;

afterEach(() => {
  vi.unstubAllGlobals();
});

async function runningWith(app: () => Response = () => new Response('ok')) {
  const ports = createFakePorts();
  const built = await deploymentIn(ports, 'RUNNING', { app });
  // The live probe fetches the port URL itself: the fake provider serves it.
  vi.stubGlobal('fetch', ports.sandboxes.fetch);
  return { ports, ...built, deploymentId: built.deployment.deploymentId };
}

describe('extendLifetime', () => {
  it("gives the sandbox the seconds asked for from now, at the provider and in the record", async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await runningWith();
    ports.clock.advanceSeconds(600);

    // Act
    const updated = await extendLifetime(ports.dependencies, 'user-1', deploymentId, 7200, MAX_SECONDS);

    // Assert
    expect(sandbox!.expiresAt.toISOString()).toBe(ports.clock.inSeconds(7200));
    expect(updated.expiresAt).toBe(ports.clock.inSeconds(7200));
  });

  it.each([59, MAX_SECONDS + 1, 90.5])('refuses %s seconds with LifetimeOutOfBoundsError', async (seconds) => {
    // Prepare
    const { ports, deploymentId } = await runningWith();

    // Act
    const attempt = extendLifetime(ports.dependencies, 'user-1', deploymentId, seconds, MAX_SECONDS);

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(LifetimeOutOfBoundsError);
  });

  it('refuses an ended deployment with NoLiveSandboxError', async () => {
    // Prepare
    const { ports, deployment } = await runningWith();
    await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Act
    const attempt = extendLifetime(ports.dependencies, 'user-1', deployment.deploymentId, 600, MAX_SECONDS);

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(NoLiveSandboxError);
  });

  it("propagates the provider's failure with its stable name and leaves the record's expiry alone", async () => {
    // Prepare
    const { ports, deploymentId, deployment } = await runningWith();
    ports.sandboxes.control.failNext('extendLifetime', 1, new SandboxNotFoundError('sandbox not found'));

    // Act
    const attempt = extendLifetime(ports.dependencies, 'user-1', deploymentId, 600, MAX_SECONDS);

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxNotFoundError' });
    expect((await ports.deployments.get(deploymentId))?.expiresAt).toBe(deployment.expiresAt);
  });
});

describe('liveHealth', () => {
  it("reports the app's answer, and nothing of the sandbox, when the app answers", async () => {
    // Prepare
    const { ports, deploymentId } = await runningWith();

    // Act
    const report = await liveHealth(ports.dependencies, 'user-1', deploymentId);

    // Assert
    expect(report).toMatchObject({ status: 'RUNNING', checkedAt: ports.clock.iso(), probe: { healthy: true, statusCode: 200 }, sandbox: null });
  });

  it('reports whether the sandbox is alive when the app answers 5xx', async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await runningWith(() => new Response('', { status: 503 }));

    // Act
    const report = await liveHealth(ports.dependencies, 'user-1', deploymentId);

    // Assert
    expect(report).toMatchObject({ probe: { healthy: false, statusCode: 503 }, sandbox: { sandboxId: sandbox!.sandboxId, alive: true } });
  });

  it('reports an ended deployment without probing it', async () => {
    // Prepare
    const { ports, deployment } = await runningWith();
    await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });
    ports.journal.clear();

    // Act
    const report = await liveHealth(ports.dependencies, 'user-1', deployment.deploymentId);

    // Assert
    expect(report).toMatchObject({ status: 'TERMINATED', probe: null, sandbox: { alive: false } });
    expect(ports.journal.calls('app.fetch')).toEqual([]);
  });

  // Bug (issue 11, smaller items): "the live health report calls a rate-limited or unreachable
  // provider 'sandbox not alive'": connect's failure is caught and reported as a dead sandbox.
  it.fails('does not call the sandbox dead when the provider only asked to slow down', async () => {
    // Prepare
    const { ports, deploymentId } = await runningWith();
    ports.sandboxes.control.failNext('connect', 1, new SandboxRateLimitedError('429'));

    // Act
    const outcome = await liveHealth(ports.dependencies, 'user-1', deploymentId).then(
      (report) => report.sandbox?.alive,
      (error: Error) => error.name,
    );

    // Assert
    expect(outcome).not.toBe(false);
  });
});

describe('deploymentLogs', () => {
  it("reads a live deployment's logs from its sandbox", async () => {
    // Prepare
    const { ports, deploymentId, app } = await runningWith();
    app!.print('2030-01-01T00:00:01.000Z served GET /');

    // Act
    const logs = await deploymentLogs(ports.dependencies, 'user-1', deploymentId, { lines: 100 });

    // Assert
    expect(logs).toEqual({ lines: [{ timestamp: '2030-01-01T00:00:01.000Z', source: 'app', line: 'served GET /', timestampSource: 'line' }] });
  });

  it('serves the logs saved before the sandbox was killed once the deployment has ended, marked saved', async () => {
    // Prepare
    const { ports, deployment, app } = await runningWith();
    app!.print('2030-01-01T00:00:01.000Z first', '2030-01-01T00:00:02.000Z second');
    await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Act
    const logs = await deploymentLogs(ports.dependencies, 'user-1', deployment.deploymentId, { lines: 100, since: new Date('2030-01-01T00:00:02.000Z') });

    // Assert
    expect(logs.lines.map((entry) => entry.line)).toEqual(['second']);
    expect(logs.saved).toEqual({ savedAt: ports.clock.iso(), endedAs: 'TERMINATED' });
  });

  it('refuses an ended deployment with nothing saved with NoLiveSandboxError', async () => {
    // Prepare
    const { ports, deployment } = await runningWith();
    ports.logArchive.control.failNext('save', 1, new Error('S3 is down'));
    await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Act
    const attempt = deploymentLogs(ports.dependencies, 'user-1', deployment.deploymentId, { lines: 100 });

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(NoLiveSandboxError);
  });
});
