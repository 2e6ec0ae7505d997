/** Operating a live deployment: keep-alive, a live probe, its logs (live or saved). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LifetimeOutOfBoundsError, NoLiveSandboxError } from '../../../../functions/shared/deployments/errors.ts';
import { endDeployment } from '../../../../functions/shared/deployments/ending/end-deployment.ts';
import { deploymentLogs, extendLifetime, liveHealth } from '../../../../functions/shared/deployments/requests/operate-deployment.ts';
import { DEFAULT_QUOTA_LIMITS } from '../../../../functions/shared/deployments/quotas/quota-limits.ts';
import { SandboxGoneError, SandboxNotFoundError, SandboxRateLimitedError, SandboxUnavailableError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn, redeployInto } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts, type FakePorts } from '../../../support/fakes/fake-ports.ts';
import { runSagaSteps } from '../../../support/fakes/run-saga-steps.ts';

const DAY = 86_400;

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

function keepAlive(ports: FakePorts, deploymentId: string, seconds: number) {
  return extendLifetime(ports.dependencies, 'user-1', deploymentId, seconds, DEFAULT_QUOTA_LIMITS);
}

describe('extendLifetime', () => {
  it('gives the sandbox the seconds asked for from now, at the provider and in the record', async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await runningWith();
    ports.clock.advanceSeconds(600);

    // Act
    const updated = await keepAlive(ports, deploymentId, 7200);

    // Assert
    expect(sandbox!.expiresAt.toISOString()).toBe(ports.clock.inSeconds(7200));
    expect(updated.expiresAt).toBe(ports.clock.inSeconds(7200));
  });

  it.each([59, 90.5])('refuses %s seconds with LifetimeOutOfBoundsError', async (seconds) => {
    // Prepare
    const { ports, deploymentId } = await runningWith();

    // Act
    const attempt = keepAlive(ports, deploymentId, seconds);

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(LifetimeOutOfBoundsError);
    await expect(attempt).rejects.toThrow('seconds must be an integer of at least 60');
  });

  it('lets the sandbox live up to the longest lifetime from its creation, and not a second past it', async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await runningWith();
    const created = sandbox!.startedAt.getTime();
    ports.clock.advanceSeconds(600);

    // Act
    const past = keepAlive(ports, deploymentId, DAY - 600 + 1);
    const upTo = await keepAlive(ports, deploymentId, DAY - 600);

    // Assert
    await expect(past).rejects.toBeInstanceOf(LifetimeOutOfBoundsError);
    await expect(past).rejects.toThrow(
      `seconds must be at most ${DAY - 600}: the sandbox may live until ${new Date(created + DAY * 1000).toISOString()}, ${DAY} s after its creation (your quota: longest sandbox lifetime)`,
    );
    expect(upTo.expiresAt).toBe(new Date(created + DAY * 1000).toISOString());
  });

  it('cannot be repeated past the longest lifetime', async () => {
    // Prepare
    const { ports, deploymentId } = await runningWith();
    // An hour more every 50 minutes, for 22.5 hours.
    for (let keptAlive = 1; keptAlive <= 27; keptAlive++) {
      ports.clock.advanceSeconds(3000);
      await keepAlive(ports, deploymentId, 3600);
    }
    ports.clock.advanceSeconds(3000);

    // Act
    const attempt = keepAlive(ports, deploymentId, 3600);

    // Assert
    await expect(attempt).rejects.toThrow(`seconds must be at most ${DAY - 28 * 3000}`);
  });

  it("bounds by the user's own longest lifetime when an operator set one", async () => {
    // Prepare
    const { ports, deploymentId } = await runningWith();
    ports.quotas.setLimits('user-1', { maxSandboxLifetimeSeconds: 3600 });
    ports.clock.advanceSeconds(1200);

    // Act
    const attempt = keepAlive(ports, deploymentId, 3000);

    // Assert
    await expect(attempt).rejects.toThrow('seconds must be at most 2400');
  });

  it('bounds a redeploy by the creation of the sandbox it took over, not by its own', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING', { sandboxLifetimeSeconds: DAY });
    ports.clock.advanceSeconds(20 * 3600);
    const redeploy = await redeployInto(ports, previous);
    ports.sandboxes.onStart('node server.js', (app) => app.listen(3000, () => new Response('v2')));
    await runSagaSteps(ports, redeploy.deploymentId);

    // Act
    const attempt = keepAlive(ports, redeploy.deploymentId, 5 * 3600);

    // Assert
    await expect(attempt).rejects.toThrow(`seconds must be at most ${4 * 3600}`);
  });

  it("does not let a redeploy keep the sandbox alive past its longest lifetime from its creation", async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING', { sandboxLifetimeSeconds: DAY });
    ports.clock.advanceSeconds(20 * 3600);

    // Act: a redeploy asking for 8 h more
    const redeploy = await redeployInto(ports, previous, { timeoutSeconds: 8 * 3600 });
    ports.sandboxes.onStart('node server.js', (app) => app.listen(3000, () => new Response('v2')));
    await runSagaSteps(ports, redeploy.deploymentId);

    // Assert: the 4 h left of its 24 h, at the provider and in the record
    expect(redeploy.options.timeoutSeconds).toBe(4 * 3600);
    expect(previous.sandbox!.expiresAt.toISOString()).toBe(ports.clock.inSeconds(4 * 3600));
    expect((await ports.deployments.get(redeploy.deploymentId))?.expiresAt).toBe(ports.clock.inSeconds(4 * 3600));
  });

  it('refuses an ended deployment with NoLiveSandboxError', async () => {
    // Prepare
    const { ports, deployment } = await runningWith();
    await endDeployment(ports.dependencies, { deployment, to: 'TERMINATED' });

    // Act
    const attempt = keepAlive(ports, deployment.deploymentId, 600);

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(NoLiveSandboxError);
  });

  it('refuses a deployment being stopped with NoLiveSandboxError, and extends nothing', async () => {
    // Prepare: an ender claimed the ending and is saving the logs
    const { ports, deployment, sandbox } = await runningWith();
    await ports.deployments.transition(deployment.deploymentId, 'STOPPING', { ending: { to: 'EXPIRED' } });
    const expiry = sandbox!.expiresAt.toISOString();

    // Act
    const attempt = keepAlive(ports, deployment.deploymentId, 600);

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(NoLiveSandboxError);
    await expect(attempt).rejects.toThrow(`deployment ${deployment.deploymentId} is STOPPING and has no live sandbox`);
    expect(sandbox!.expiresAt.toISOString()).toBe(expiry);
  });

  it("propagates the provider's failure with its stable name and leaves the record's expiry alone", async () => {
    // Prepare
    const { ports, deploymentId, deployment } = await runningWith();
    ports.sandboxes.control.failNext('extendLifetime', 1, new SandboxNotFoundError('sandbox not found'));

    // Act
    const attempt = keepAlive(ports, deploymentId, 600);

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

  it.each([
    ['asked to slow down', new SandboxRateLimitedError('429')],
    ['is unavailable', new SandboxUnavailableError('503')],
  ])('does not call the sandbox dead when the provider only %s: the failure goes to the caller with its stable name', async (_what, error) => {
    // Prepare
    const { ports, deploymentId } = await runningWith();
    ports.sandboxes.control.failNext('connect', 1, error);

    // Act
    const attempt = liveHealth(ports.dependencies, 'user-1', deploymentId);

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: error.name });
  });

  it.each([
    ['not found', new SandboxNotFoundError('sandbox not found')],
    ['gone', new SandboxGoneError('sandbox ended')],
  ])('reports the sandbox not alive when the provider says it is %s', async (_what, error) => {
    // Prepare
    const { ports, deploymentId, sandbox } = await runningWith();
    ports.sandboxes.control.failNext('connect', 1, error);

    // Act
    const report = await liveHealth(ports.dependencies, 'user-1', deploymentId);

    // Assert
    expect(report).toMatchObject({ status: 'RUNNING', probe: null, sandbox: { sandboxId: sandbox!.sandboxId, alive: false } });
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

  it('points a deployment replaced by a redeploy to the deployment that took over its sandbox and logs', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const redeploy = await redeployInto(ports, previous);
    ports.sandboxes.onStart('node server.js', (app) => app.listen(3000, () => new Response('v2')));
    await runSagaSteps(ports, redeploy.deploymentId);

    // Act
    const attempt = deploymentLogs(ports.dependencies, 'user-1', previous.deployment.deploymentId, { lines: 100 });

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(NoLiveSandboxError);
    await expect(attempt).rejects.toThrow(`it was replaced by ${redeploy.deploymentId}, which took over its sandbox and its logs`);
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
