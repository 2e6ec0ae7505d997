/** Which live sandbox a redeploy goes into: the one named, or the project's newest live one. */
import { describe, expect, it } from 'vitest';
import { SandboxNotReusableError } from '../../../../functions/shared/deployments/errors.ts';
import { findReusableDeployment } from '../../../../functions/shared/deployments/requests/find-reusable-deployment.ts';
import { deploymentIn, redeployInto } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';
import { runSagaSteps } from '../../../support/fakes/run-saga-steps.ts';

describe('findReusableDeployment', () => {
  it("answers the running deployment of the caller's that owns the named sandbox", async () => {
    // Prepare
    const ports = createFakePorts();
    const owner = await deploymentIn(ports, 'RUNNING');

    // Act
    const found = await findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello', sandboxId: owner.sandbox!.sandboxId });

    // Assert
    expect(found).toEqual(owner.deployment);
  });

  it('finds the owner of the named sandbox in one read of its ownership, never by listing the caller’s deployments', async () => {
    // Prepare
    const ports = createFakePorts();
    const owner = await deploymentIn(ports, 'RUNNING');
    ports.journal.clear();

    // Act
    await findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello', sandboxId: owner.sandbox!.sandboxId });

    // Assert
    expect(ports.journal.names()).toEqual(['ownership.ownerOf', 'deployments.get', 'sandboxes.isAlive']);
  });

  it('finds a sandbox with no ownership item (created before there were any) among the caller’s live deployments', async () => {
    // Prepare
    const ports = createFakePorts();
    const owner = await deploymentIn(ports, 'RUNNING', { recordOwner: false });

    // Act
    const found = await findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello', sandboxId: owner.sandbox!.sandboxId });

    // Assert
    expect(found?.deploymentId).toBe(owner.deployment.deploymentId);
  });

  it('answers the redeploy that took the sandbox over, once it runs', async () => {
    // Prepare
    const ports = createFakePorts();
    const first = await deploymentIn(ports, 'RUNNING');
    const redeploy = await redeployInto(ports, first);
    ports.sandboxes.onStart('node server.js', (app) => app.listen(3000, () => new Response('v2')));
    await runSagaSteps(ports, redeploy.deploymentId);

    // Act
    const found = await findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello', sandboxId: first.sandbox!.sandboxId });

    // Assert
    expect(found?.deploymentId).toBe(redeploy.deploymentId);
  });

  it('refuses with 404 a sandbox whose owner is a redeploy still on its way', async () => {
    // Prepare
    const ports = createFakePorts();
    const first = await deploymentIn(ports, 'RUNNING');
    await redeployInto(ports, first);

    // Act
    const attempt = findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello', sandboxId: first.sandbox!.sandboxId });

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxNotReusableError', statusCode: 404 });
  });

  it('finds the named sandbox beyond the first page of running deployments', async () => {
    // Prepare
    const ports = createFakePorts();
    const owner = await deploymentIn(ports, 'RUNNING');
    for (let index = 0; index < 55; index++) {
      ports.clock.advanceSeconds(1);
      await deploymentIn(ports, 'RUNNING');
    }

    // Act
    const found = await findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello', sandboxId: owner.sandbox!.sandboxId });

    // Assert
    expect(found?.deploymentId).toBe(owner.deployment.deploymentId);
  });

  it("refuses another user's sandbox with 404", async () => {
    // Prepare
    const ports = createFakePorts();
    const theirs = await deploymentIn(ports, 'RUNNING', { overrides: { userId: 'someone-else' } });

    // Act
    const attempt = findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello', sandboxId: theirs.sandbox!.sandboxId });

    // Assert
    await expect(attempt).rejects.toBeInstanceOf(SandboxNotReusableError);
    await expect(attempt).rejects.toMatchObject({ statusCode: 404 });
  });

  it('refuses a sandbox the provider no longer has with 409', async () => {
    // Prepare
    const ports = createFakePorts();
    const owner = await deploymentIn(ports, 'RUNNING');
    owner.sandbox!.end();

    // Act
    const attempt = findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello', sandboxId: owner.sandbox!.sandboxId });

    // Assert
    await expect(attempt).rejects.toMatchObject({ name: 'SandboxNotReusableError', statusCode: 409 });
  });

  it("with reuse, answers the project's newest running deployment whose sandbox is alive", async () => {
    // Prepare
    const ports = createFakePorts();
    const older = await deploymentIn(ports, 'RUNNING');
    ports.clock.advanceSeconds(60);
    const newer = await deploymentIn(ports, 'RUNNING');
    newer.sandbox!.end();
    ports.clock.advanceSeconds(60);
    await deploymentIn(ports, 'RUNNING', { overrides: { projectId: 'another' } });

    // Act
    const found = await findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello', reuse: true });

    // Assert
    expect(found?.deploymentId).toBe(older.deployment.deploymentId);
  });

  it('with reuse, reads only the sparse index of live deployments', async () => {
    // Prepare
    const ports = createFakePorts();
    const live = await deploymentIn(ports, 'RUNNING');
    ports.journal.clear();

    // Act
    const found = await findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello', reuse: true });

    // Assert
    expect(found?.deploymentId).toBe(live.deployment.deploymentId);
    expect(ports.journal.calls('deployments.listByOwner')).toEqual([]);
    expect(ports.journal.calls('deployments.listActiveByOwner')).toHaveLength(1);
  });

  it('with reuse and no live sandbox of the project, answers none: a fresh deployment', async () => {
    // Prepare
    const ports = createFakePorts();
    await deploymentIn(ports, 'CHECKING_HEALTH');

    // Act
    const found = await findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello', reuse: true });

    // Assert
    expect(found).toBeUndefined();
  });

  it('without sandboxId or reuse, answers none and reads nothing', async () => {
    // Prepare
    const ports = createFakePorts();

    // Act
    const found = await findReusableDeployment(ports.dependencies, 'user-1', { projectId: 'hello' });

    // Assert
    expect(found).toBeUndefined();
    expect(ports.journal.entries).toEqual([]);
  });
});
