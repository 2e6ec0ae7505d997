/**
 * Saga step 4 (repeated by the state machine until healthy or the deadline passes): probes the
 * app through its port URL and marks the deployment RUNNING when it answers.
 */
import { APP_STDERR_LOG, APP_STDOUT_LOG } from '../app-layout.ts';
import type { DeploymentDependencies } from '../dependencies.ts';
import { nowOf } from '../dependencies.ts';
import { AppExitedError, DeploymentStateError, HealthCheckTimeoutError } from '../errors.ts';
import { describeProbe, probeApp, type ProbeOptions, type ProbeResult } from '../probe-app.ts';
import { loadDeployment } from './load-deployment.ts';
import { readLogTail } from './start-app.ts';

export interface HealthCheckResult {
  healthy: boolean;
  probe?: ProbeResult;
  appUrl?: string;
  /** True only for the call that moved the deployment to RUNNING (not for a retry). */
  becameRunning?: boolean;
}

export async function checkHealth(
  dependencies: DeploymentDependencies,
  deploymentId: string,
  probeOptions: ProbeOptions = {},
): Promise<HealthCheckResult> {
  const { deployments, sandboxes } = dependencies;
  const deployment = await loadDeployment(deployments, deploymentId);
  if (deployment.status === 'RUNNING') return { healthy: true, appUrl: deployment.appUrl };
  if (deployment.status !== 'CHECKING_HEALTH' || !deployment.sandboxId) {
    throw new DeploymentStateError(deploymentId, deployment.status, 'CHECKING_HEALTH');
  }
  const sandbox = await sandboxes.connect(deployment.sandboxId);
  // Our app must be the one answering (after a redeploy, an old app could still hold the port).
  const running = (await sandbox.listProcesses()).some((process) => process.pid === deployment.appPid);
  if (!running) {
    const output = await readLogTail(sandbox, [APP_STDERR_LOG, APP_STDOUT_LOG]);
    throw new AppExitedError(`the app exited before it became healthy${output ? `: ${output}` : ''}`);
  }
  const appUrl = sandbox.portUrl(deployment.options.port);
  const probe = await probeApp(appUrl, deployment.options.healthPath, probeOptions);
  if (probe.healthy) {
    await deployments.transition(deploymentId, 'RUNNING', { appUrl });
    // The staged files (and the env in the manifest) are not needed any more.
    await dependencies.staging.deleteAll(deploymentId).catch(() => undefined);
    return { healthy: true, probe, appUrl, becameRunning: true };
  }
  if (deployment.healthDeadline && nowOf(dependencies) >= new Date(deployment.healthDeadline)) {
    throw new HealthCheckTimeoutError(
      `the app did not become healthy by ${deployment.healthDeadline} on port ${deployment.options.port}; last probe: ${describeProbe(probe)}`,
    );
  }
  return { healthy: false, probe };
}
