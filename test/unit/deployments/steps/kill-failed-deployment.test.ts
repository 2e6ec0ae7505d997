/** The saga's Catch: whatever step failed, no sandbox is left and the failure is recorded. */
import { describe, expect, it } from 'vitest';
import { killFailedDeployment, type KillInput } from '../../../../functions/shared/deployments/steps/kill-failed-deployment.ts';
import { SandboxUnavailableError } from '../../../../functions/shared/sandbox/errors.ts';
import { deploymentIn, redeployInto } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { watchTerminalMeansGone } from '../../../support/fakes/terminal-means-gone.ts';

const LAMBDA_CAUSE = JSON.stringify({ errorType: 'AppExitedError', errorMessage: 'the app exited before it became healthy', trace: [] });

function failedIn(deploymentId: string, overrides: Partial<KillInput> = {}): KillInput {
  return { deploymentId, failedStep: 'health', error: { Error: 'AppExitedError', Cause: LAMBDA_CAUSE }, ...overrides };
}

async function failing() {
  const ports = createFakePorts();
  const built = await deploymentIn(ports, 'CHECKING_HEALTH');
  ports.journal.clear();
  return { ports, ...built, deploymentId: built.deployment.deploymentId };
}

describe('killFailedDeployment', () => {
  it("records FAILED with the step, the error's name and Lambda's message, after killing the sandbox", async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await failing();
    const watch = watchTerminalMeansGone(ports);

    // Act
    const result = await killFailedDeployment(ports.dependencies, failedIn(deploymentId));

    // Assert
    const error = { step: 'health', name: 'AppExitedError', message: 'the app exited before it became healthy' };
    expect(result).toEqual({ deploymentId, status: 'FAILED', killedSandboxes: [sandbox!.sandboxId], recorded: true, error });
    expect(await ports.deployments.get(deploymentId)).toMatchObject({ status: 'FAILED', error });
    expect(watch.violations()).toEqual([]);
    expect(ports.staging.keysOf(deploymentId)).toEqual([]);
  });

  it('saves the logs before the kill, and the kill before the terminal record', async () => {
    // Prepare
    const { ports, deploymentId, app } = await failing();
    app!.print('2030-01-01T00:00:00.100Z booting');

    // Act
    await killFailedDeployment(ports.dependencies, failedIn(deploymentId));

    // Assert
    const saved = ports.journal.indexOf('logArchive.save');
    const killed = ports.journal.indexOf('sandboxes.kill');
    const recorded = ports.journal.indexOf('deployments.transition', (args) => args[1] === 'FAILED');
    expect(saved).toBeGreaterThanOrEqual(0);
    expect(saved).toBeLessThan(killed);
    expect(killed).toBeLessThan(recorded);
    expect(ports.logArchive.saved.get(deploymentId)?.endedAs).toBe('FAILED');
  });

  it('run again, records nothing more and only makes sure no sandbox is left', async () => {
    // Prepare
    const { ports, deploymentId, deployment } = await failing();
    await killFailedDeployment(ports.dependencies, failedIn(deploymentId));
    const recorded = await ports.deployments.get(deploymentId);
    // A sandbox the create step made late, carrying the deployment's id.
    const late = ports.sandboxes.seed({ metadata: { deploymentId, userId: deployment.userId, projectId: deployment.projectId } });

    // Act
    const result = await killFailedDeployment(ports.dependencies, failedIn(deploymentId));

    // Assert
    expect(result).toMatchObject({ status: 'FAILED', recorded: false });
    expect(result.killedSandboxes).toContain(late.sandboxId);
    expect(late.alive).toBe(false);
    expect(await ports.deployments.get(deploymentId)).toEqual(recorded);
  });

  it('leaves a RUNNING deployment and its sandbox alone', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'RUNNING');

    // Act
    const result = await killFailedDeployment(ports.dependencies, failedIn(deployment.deploymentId));

    // Assert
    expect(result).toMatchObject({ status: 'RUNNING', killedSandboxes: [], recorded: false });
    expect(sandbox!.alive).toBe(true);
  });

  it('hands the sandbox of a replaced deployment on untouched', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    await redeployInto(ports, previous);

    // Act
    const result = await killFailedDeployment(ports.dependencies, failedIn(previous.deployment.deploymentId));

    // Assert
    expect(result).toMatchObject({ status: 'TERMINATED', killedSandboxes: [], recorded: false });
    expect(previous.sandbox!.alive).toBe(true);
  });

  it('fails a redeploy whose step failed, with the sandbox it took over', async () => {
    // Prepare
    const ports = createFakePorts();
    const previous = await deploymentIn(ports, 'RUNNING');
    const redeploy = await redeployInto(ports, previous);

    // Act
    const result = await killFailedDeployment(ports.dependencies, failedIn(redeploy.deploymentId, { failedStep: 'create' }));

    // Assert
    expect(result).toMatchObject({ status: 'FAILED', killedSandboxes: [previous.sandbox!.sandboxId], recorded: true });
    expect(previous.sandbox!.alive).toBe(false);
  });

  it('gives the quota of the failed deployment back', async () => {
    // Prepare
    const { ports, deploymentId } = await failing();

    // Act
    await killFailedDeployment(ports.dependencies, failedIn(deploymentId));

    // Assert
    expect(ports.quotas.held('user-1')).toEqual([]);
  });

  it('finishes a failure whose first Kill step died after its claim, keeping the first cause', async () => {
    // Prepare: the first Kill step claimed STOPPING and died at the kill; Step Functions retries it
    const { ports, deploymentId, sandbox } = await failing();
    const died = ports.sandboxes.control.hangNext('kill', 'before');
    void killFailedDeployment(ports.dependencies, failedIn(deploymentId));
    await died;

    // Act
    const result = await killFailedDeployment(ports.dependencies, failedIn(deploymentId, { error: { Error: 'States.TaskFailed', Cause: 'the retry' } }));

    // Assert
    expect(result).toMatchObject({ status: 'FAILED', recorded: true, killedSandboxes: [sandbox!.sandboxId] });
    expect((await ports.deployments.get(deploymentId))?.error).toEqual({ step: 'health', name: 'AppExitedError', message: 'the app exited before it became healthy' });
    expect(sandbox!.alive).toBe(false);
  });

  it('kills the sandboxes carrying the id of a deployment that has no record', async () => {
    // Prepare
    const ports = createFakePorts();
    const stray = ports.sandboxes.seed({ metadata: { deploymentId: 'never-recorded', userId: 'u', projectId: 'p' } });

    // Act
    const result = await killFailedDeployment(ports.dependencies, failedIn('never-recorded', { failedStep: 'create' }));

    // Assert
    expect(result).toMatchObject({ status: 'UNKNOWN', killedSandboxes: [stray.sandboxId], recorded: false });
    expect(stray.alive).toBe(false);
  });

  it("propagates the provider's failure with its stable name and leaves the record STOPPING, not terminal", async () => {
    // Prepare
    const { ports, deploymentId, sandbox } = await failing();
    ports.sandboxes.control.failNext('kill', 1, new SandboxUnavailableError('503'));

    // Act
    const attempt = killFailedDeployment(ports.dependencies, failedIn(deploymentId));

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxUnavailableError' });
    expect(await ports.deployments.get(deploymentId)).toMatchObject({ status: 'STOPPING', ending: { to: 'FAILED' } });
    expect(sandbox!.alive).toBe(true);
  });

  it("records a plain-text Cause as the message, and a missing error as UnknownError", async () => {
    // Prepare
    const ports = createFakePorts();
    const first = await deploymentIn(ports, 'STARTING');
    const second = await deploymentIn(ports, 'STARTING');

    // Act
    await killFailedDeployment(ports.dependencies, failedIn(first.deployment.deploymentId, { failedStep: 'start', error: { Error: 'States.Timeout', Cause: 'Task timed out' } }));
    await killFailedDeployment(ports.dependencies, { deploymentId: second.deployment.deploymentId, failedStep: 'start' });

    // Assert
    expect((await ports.deployments.get(first.deployment.deploymentId))?.error).toEqual({ step: 'start', name: 'States.Timeout', message: 'Task timed out' });
    expect((await ports.deployments.get(second.deployment.deploymentId))?.error).toEqual({ step: 'start', name: 'UnknownError', message: 'UnknownError' });
  });
});
