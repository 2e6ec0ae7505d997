/**
 * Saga step 4, health: probes the app through its port URL until it answers, and fails as soon
 * as the answer is clear. Probes go to the fake provider's port URLs; intervals are short so the
 * loop runs in milliseconds (the outcome never depends on how fast the machine is).
 */
import { describe, expect, it } from 'vitest';
import { AppExitedError, AppUnhealthyError, DeploymentStateError, HealthCheckTimeoutError } from '../../../../functions/shared/deployments/errors.ts';
import { checkHealth, type CheckHealthOptions } from '../../../../functions/shared/deployments/steps/check-health.ts';
import { SandboxUnavailableError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn, nodePlan, type DeploymentInOptions } from '../../../support/fakes/deployment-builders.ts';
import type { AppHandler } from '../../../support/fakes/fake-process.ts';
import { createFakePorts, type FakePorts } from '../../../support/fakes/fake-ports.ts';

const FAST = { firstIntervalMs: 5, maxIntervalMs: 20, portSearchAfterMs: 30, settledAnswerMs: 60, maxInvocationMs: 5_000 } satisfies CheckHealthOptions;

function options(ports: FakePorts, overrides: CheckHealthOptions = {}): CheckHealthOptions {
  return { ...FAST, probe: { fetch: ports.sandboxes.fetch }, ...overrides };
}

async function checking(app: AppHandler | false, build: DeploymentInOptions = {}) {
  const ports = createFakePorts();
  const built = await deploymentIn(ports, 'CHECKING_HEALTH', { ...build, app });
  return { ports, ...built, deploymentId: built.deployment.deploymentId };
}

const answering = (status: number, body = '') => () => new Response(body, { status });

describe('checkHealth', () => {
  it('moves an app that answers at once to RUNNING with its URL, and deletes the staged files', async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await checking(answering(200, 'ok'));

    // Act
    const result = await checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    const appUrl = ports.sandboxes.portUrl(sandbox!.sandboxId, 3000);
    expect(result).toMatchObject({ healthy: true, appUrl, becameRunning: true, probe: { statusCode: 200, path: '/health' } });
    expect(await ports.deployments.get(deploymentId)).toMatchObject({ status: 'RUNNING', appUrl });
    expect(ports.staging.keysOf(deploymentId)).toEqual([]);
  });

  it('gives the slot of deployments in flight back once RUNNING, and keeps the live-sandbox slot', async () => {
    // Prepare
    const { ports, deploymentId } = await checking(answering(200, 'ok'));

    // Act
    await checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    expect(ports.quotas.held('user-1').map((slot) => `${slot.quota} ${slot.holder}`)).toEqual([`liveSandboxes ${deploymentId}`]);
  });

  it('refuses a deployment being stopped with DeploymentStateError, and probes nothing', async () => {
    // Prepare
    const { ports, deploymentId } = await checking(answering(200, 'ok'));
    await ports.deployments.transition(deploymentId, 'STOPPING', { ending: { to: 'TERMINATED' } });
    ports.journal.clear();

    // Act
    const attempt = checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(DeploymentStateError);
    expect(ports.journal.calls('app.fetch')).toEqual([]);
  });

  it('answers a retry after success as healthy without probing or writing again', async () => {
    // Prepare
    const { ports, deploymentId } = await checking(answering(200));
    const first = await checkHealth(ports.dependencies, deploymentId, options(ports));
    ports.journal.clear();

    // Act
    const retried = await checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    expect(retried).toEqual({ healthy: true, appUrl: first.appUrl });
    expect(ports.journal.names().filter((name) => name !== 'deployments.get')).toEqual([]);
  });

  it('refuses a deployment in another status with DeploymentStateError', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'STARTING');

    // Act
    const attempt = checkHealth(ports.dependencies, deployment.deploymentId, options(ports));

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(DeploymentStateError);
  });

  it("propagates the provider's failure with its stable name", async () => {
    // Prepare
    const { ports, deploymentId } = await checking(answering(200));
    ports.sandboxes.control.failNext('connect', 1, new SandboxUnavailableError('502 Bad Gateway'));

    // Act
    const attempt = checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxUnavailableError' });
    expect((await ports.deployments.get(deploymentId))?.status).toBe('CHECKING_HEALTH');
  });

  it('records / as the path that answered when the health path is 404 and / answers', async () => {
    // Prepare
    const { ports, deploymentId } = await checking((request) => new Response('', { status: new URL(request.url).pathname === '/' ? 200 : 404 }));

    // Act
    await checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    expect(await ports.deployments.get(deploymentId)).toMatchObject({ status: 'RUNNING', healthyPath: '/' });
  });

  it('waits for an app that answers 503 while it warms up', async () => {
    // Prepare
    let calls = 0;
    const { ports, deploymentId } = await checking(() => new Response('', { status: ++calls <= 3 ? 503 : 200 }));

    // Act
    const result = await checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    expect(result.healthy).toBe(true);
    expect(calls).toBe(4);
  });

  it('fails with AppExitedError and its output when the app process is gone', async () => {
    // Prepare
    const { ports, deploymentId, app } = await checking(false);
    app!.printError("Error: Cannot find module 'express'", 'Require stack:', '- /home/user/app/server.js').exit();

    // Act
    const attempt = checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    await expect(attempt).rejects.toThrow(AppExitedError);
    const message = (await attempt.catch((error: Error) => error.message)) as string;
    expect(message.split('\n')[0]).toBe('the app exited before it became healthy');
    expect(message).toContain('hint: the dependency "express" is not installed');
    expect(message).toContain("  Error: Cannot find module 'express'");
  });

  it('says the kernel killed the app for memory when the memory cgroup counts an oom_kill', async () => {
    // Prepare
    const { ports, deploymentId, app, sandbox } = await checking(false);
    sandbox!.memory.limitBytes = 256 * 1024 * 1024;
    sandbox!.memory.oomKills = 1;
    app!.print('allocating').exit();

    // Act
    const attempt = checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    await expect(attempt).rejects.toThrow(/^the app was killed: out of memory\nhint: out of memory: the sandbox's limit is 256 MiB/);
  });

  it('says so when the app that exited printed nothing', async () => {
    // Prepare
    const { ports, deploymentId, app } = await checking(false);
    app!.exit();

    // Act
    const attempt = checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    await expect(attempt).rejects.toThrow('(the app printed nothing)');
  });

  it("fails with AppUnhealthyError naming the host check when the app keeps answering 403", async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await checking(answering(403, 'Blocked request. This host is not allowed.'));

    // Act
    const attempt = checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    await expect(attempt).rejects.toThrow(AppUnhealthyError);
    const message = (await attempt.catch((error: Error) => error.message)) as string;
    const host = `3000-${sandbox!.sandboxId}.sandboxes.fake.test`;
    expect(message).toContain('the app answers 403');
    expect(message).toContain(`hint: the app refuses the sandbox's host name ${host} (a host check, such as Vite's allowedHosts or Django's ALLOWED_HOSTS)`);
    expect(message).toContain('body: Blocked request. This host is not allowed.');
  });

  it('adopts the port the app listens on when nothing answers on the detected one, and becomes RUNNING there', async () => {
    // Prepare
    const { ports, deploymentId, app, sandbox } = await checking(false);
    app!.listen(5173, answering(200));

    // Act
    const result = await checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    expect(result).toMatchObject({ healthy: true, appUrl: ports.sandboxes.portUrl(sandbox!.sandboxId, 5173) });
    const record = await ports.deployments.get(deploymentId);
    expect(record?.options.port).toBe(5173);
    expect(record?.plan?.port).toEqual({ value: 5173, source: 'detected', reason: 'the app listens on port 5173 (read inside the sandbox), not on 3000 (PORT): using 5173' });
  });

  it('fails fast with AppUnhealthyError when the app listens elsewhere than the port the caller gave', async () => {
    // Prepare
    const plan = nodePlan({ port: { value: 3000, reason: 'options.port', source: 'option' } });
    const { ports, deploymentId, app } = await checking(false, { overrides: { plan } });
    app!.listen(8080, answering(200));

    // Act
    const attempt = checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    await expect(attempt).rejects.toThrow(AppUnhealthyError);
    await expect(attempt).rejects.toThrow('the app listens on 0.0.0.0:8080, not on port 3000 (options.port), so it cannot become healthy');
    expect((await ports.deployments.get(deploymentId))?.options.port).toBe(3000);
  });

  it("returns not healthy yet before the invocation's time runs out", async () => {
    // Prepare
    const { ports, deploymentId } = await checking(answering(503));
    const lambdaDeadline = Date.now() + 4_000 + 200;
    const remainingMs = () => lambdaDeadline - Date.now();

    // Act
    const result = await checkHealth(ports.dependencies, deploymentId, options(ports, { remainingMs }));

    // Assert
    expect(remainingMs()).toBeGreaterThan(0);
    expect(result).toMatchObject({ healthy: false, probe: { statusCode: 503 } });
    expect((await ports.deployments.get(deploymentId))?.status).toBe('CHECKING_HEALTH');
  });

  it('fails with HealthCheckTimeoutError and the last probe once the health deadline has passed', async () => {
    // Prepare
    const { ports, deploymentId, deployment } = await checking(answering(503, 'starting'));
    ports.clock.advanceSeconds(61);

    // Act
    const attempt = checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    await expect(attempt).rejects.toThrow(HealthCheckTimeoutError);
    await expect(attempt).rejects.toThrow(`the app did not become healthy by ${deployment.healthDeadline} on port 3000; last probe: GET /health answered 503\nbody: starting`);
  });

  it("gives up with the app's last output lines in the message", async () => {
    // Prepare
    const { ports, deploymentId, app } = await checking(answering(503, 'starting'));
    app!.print('connecting to the database', 'retrying in 5 s');
    ports.clock.advanceSeconds(61);

    // Act
    const attempt = checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    await expect(attempt).rejects.toThrow(HealthCheckTimeoutError);
    await expect(attempt).rejects.toThrow(/\napp output:\n.*connecting to the database\n.*retrying in 5 s$/);
  });

  it('says nothing listens at all when the deadline passes without an answer', async () => {
    // Prepare
    const { ports, deploymentId } = await checking(false);
    ports.clock.advanceSeconds(61);

    // Act
    const attempt = checkHealth(ports.dependencies, deploymentId, options(ports));

    // Assert
    await expect(attempt).rejects.toThrow('hint: nothing in the sandbox listens on a TCP port: the app must listen on $PORT (3000) on 0.0.0.0');
  });
});
