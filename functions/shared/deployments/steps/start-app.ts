/**
 * Saga step 3: runs the install command, then starts the app in the background with its output
 * in log files inside the sandbox, and makes sure it did not exit at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { APP_DIR, APP_STDERR_LOG, APP_STDOUT_LOG, INSTALL_LOG, LOG_DIR } from '../app-layout.ts';
import type { DeploymentDependencies } from '../dependencies.ts';
import { nowOf } from '../dependencies.ts';
import { filesUploaded } from '../deployment.ts';
import { DeploymentStateError, InstallFailedError, StartFailedError, UploadIncompleteError } from '../errors.ts';
import type { SandboxHandle } from '../../sandbox/sandbox-provider.ts';
import { loadDeployment, tail } from './load-deployment.ts';
import { splitCapturedTimestamp, timestampedBackgroundCommand, timestampedCommand } from '../logs/timestamp-lines.ts';

export interface StartAppOptions {
  installTimeoutMs: number;
  /** How long the app must stay up right after start to count as started. */
  startGraceMs: number;
  healthTimeoutSeconds: number;
}

export const DEFAULT_START_OPTIONS: StartAppOptions = { installTimeoutMs: 300_000, startGraceMs: 1_500, healthTimeoutSeconds: 60 };

export async function startApp(
  dependencies: DeploymentDependencies,
  deploymentId: string,
  options: StartAppOptions = DEFAULT_START_OPTIONS,
): Promise<{ pid: number }> {
  const { deployments, sandboxes } = dependencies;
  let deployment = await loadDeployment(deployments, deploymentId);
  if (deployment.status === 'UPLOADING') {
    const uploaded = filesUploaded(deployment);
    if (uploaded !== deployment.filesTotal) {
      throw new UploadIncompleteError(`only ${uploaded} of ${deployment.filesTotal} files reached the sandbox`);
    }
    deployment = await deployments.transition(deploymentId, 'STARTING');
  }
  // A retry after an earlier attempt succeeded (the Lambda answer was lost): that start stands.
  if ((deployment.status === 'CHECKING_HEALTH' || deployment.status === 'RUNNING') && deployment.appPid) return { pid: deployment.appPid };
  if (deployment.status !== 'STARTING' || !deployment.sandboxId) throw new DeploymentStateError(deploymentId, deployment.status, 'STARTING');

  const sandbox = await sandboxes.connect(deployment.sandboxId);
  // A retried start must not leave the first attempt's app running beside the second.
  if (deployment.appPid) await sandbox.killProcess(deployment.appPid);
  await sandbox.makeDir(LOG_DIR);
  // Env and port are given per command too: a redeploy's sandbox still has the first deployment's.
  const manifest = await dependencies.staging.getManifest(deploymentId);
  const env = { ...manifest.env, PORT: String(deployment.options.port) };
  const { installCommand, startCommand } = deployment.options;
  if (installCommand) await install(sandbox, installCommand, env, options.installTimeoutMs);

  // Every output line gets a timestamp as it is written, so logs from several sources merge in order.
  const { pid } = await sandbox.startBackground(timestampedBackgroundCommand(startCommand), {
    cwd: APP_DIR,
    env,
    stdoutPath: APP_STDOUT_LOG,
    stderrPath: APP_STDERR_LOG,
  });
  await deployments.update(deploymentId, { appPid: pid });
  await sleep(options.startGraceMs);
  const running = (await sandbox.listProcesses()).some((process) => process.pid === pid);
  if (!running) {
    const output = await readLogTail(sandbox, [APP_STDERR_LOG, APP_STDOUT_LOG]);
    throw new StartFailedError(`start command "${startCommand}" exited at once${output ? `: ${output}` : ' without output'}`);
  }
  const healthDeadline = new Date(nowOf(dependencies).getTime() + options.healthTimeoutSeconds * 1000).toISOString();
  await deployments.transition(deploymentId, 'CHECKING_HEALTH', { healthDeadline });
  return { pid };
}

async function install(sandbox: SandboxHandle, installCommand: string, env: Record<string, string>, timeoutMs: number): Promise<void> {
  const result = await sandbox.run(`${timestampedCommand(installCommand)} >> ${INSTALL_LOG} 2>&1`, { cwd: APP_DIR, env, timeoutMs });
  if (result.exitCode === 0) return;
  const output = await readLogTail(sandbox, [INSTALL_LOG]);
  throw new InstallFailedError(`install command "${installCommand}" exited with code ${result.exitCode}${output ? `: ${output}` : ''}`);
}

/** The last lines of the first of these log files that has any. */
export async function readLogTail(sandbox: SandboxHandle, paths: string[], lines = 10): Promise<string> {
  for (const path of paths) {
    const content = await sandbox.readFile(path).then((bytes) => new TextDecoder().decode(bytes), () => '');
    const text = content
      .split('\n')
      .map((line) => splitCapturedTimestamp(line)?.text ?? line)
      .join('\n');
    if (text.trim()) return tail(text, lines);
  }
  return '';
}
