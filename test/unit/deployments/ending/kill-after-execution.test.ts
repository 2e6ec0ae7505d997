/** The kill for executions whose Catch never ran (timed out, aborted, uncatchable errors). */
import { describe, expect, it } from 'vitest';
import { killAfterExecution } from '../../../../functions/shared/deployments/ending/kill-after-execution.ts';
import { killFailedDeployment } from '../../../../functions/shared/deployments/steps/kill-failed-deployment.ts';
import { deploymentIn } from '../../../support/fakes/deployment-builders.ts';
import { createFakePorts } from '../../../support/fakes/fake-ports.ts';

describe('killAfterExecution', () => {
  it('fails a timed-out execution in the step its record was in, and kills its sandbox', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'STARTING');

    // Act
    const result = await killAfterExecution(ports.dependencies, { name: deployment.deploymentId, status: 'TIMED_OUT' });

    // Assert
    expect(result).toMatchObject({ status: 'FAILED', recorded: true, error: { step: 'start', name: 'ExecutionTimedOut', message: 'the execution timed out in step start' } });
    expect(sandbox!.alive).toBe(false);
  });

  it("records the execution's own error and cause when the event has them", async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'UPLOADING');

    // Act
    const result = await killAfterExecution(ports.dependencies, { name: deployment.deploymentId, status: 'FAILED', error: 'States.DataLimitExceeded', cause: 'the state output exceeded 256 KB' });

    // Assert
    expect(result.error).toEqual({ step: 'upload', name: 'States.DataLimitExceeded', message: 'the state output exceeded 256 KB' });
  });

  it("after the saga's own Kill step, records nothing more", async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CHECKING_HEALTH');
    await killFailedDeployment(ports.dependencies, { deploymentId: deployment.deploymentId, failedStep: 'health', error: { Error: 'AppExitedError', Cause: 'exited' } });
    const recorded = await ports.deployments.get(deployment.deploymentId);

    // Act
    const result = await killAfterExecution(ports.dependencies, { name: deployment.deploymentId, status: 'FAILED' });

    // Assert
    expect(result).toMatchObject({ status: 'FAILED', recorded: false });
    expect(await ports.deployments.get(deployment.deploymentId)).toEqual(recorded);
    expect(ports.sandboxes.live()).toEqual([]);
  });

  it('names an aborted execution ExecutionAborted', async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CREATING');

    // Act
    const result = await killAfterExecution(ports.dependencies, { name: deployment.deploymentId, status: 'ABORTED' });

    // Assert
    expect(result.error).toEqual({ step: 'create', name: 'ExecutionAborted', message: 'the execution aborted in step create' });
  });

  it("keeps the cause of the saga's Kill step when that step died after its claim", async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment } = await deploymentIn(ports, 'CHECKING_HEALTH');
    const died = ports.sandboxes.control.hangNext('kill', 'before');
    void killFailedDeployment(ports.dependencies, { deploymentId: deployment.deploymentId, failedStep: 'health', error: { Error: 'AppExitedError', Cause: 'exited' } });
    await died;

    // Act
    const result = await killAfterExecution(ports.dependencies, { name: deployment.deploymentId, status: 'FAILED' });

    // Assert
    expect(result.status).toBe('FAILED');
    expect((await ports.deployments.get(deployment.deploymentId))?.error).toEqual({ step: 'health', name: 'AppExitedError', message: 'exited' });
  });

  it("finishes the saga's Kill step that died after its claim: no sandbox is left", async () => {
    // Prepare
    const ports = createFakePorts();
    const { deployment, sandbox } = await deploymentIn(ports, 'CHECKING_HEALTH');
    const died = ports.sandboxes.control.hangNext('kill', 'before');
    void killFailedDeployment(ports.dependencies, { deploymentId: deployment.deploymentId, failedStep: 'health', error: { Error: 'AppExitedError', Cause: 'exited' } });
    await died;

    // Act
    const result = await killAfterExecution(ports.dependencies, { name: deployment.deploymentId, status: 'FAILED' });

    // Assert
    expect(result).toMatchObject({ status: 'FAILED', recorded: true, killedSandboxes: [sandbox!.sandboxId] });
    expect(sandbox!.alive).toBe(false);
  });
});
