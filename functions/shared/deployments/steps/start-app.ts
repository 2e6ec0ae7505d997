/**
 * Saga step 3: runs the plan's install and build, each with its output in a log inside the
 * sandbox, then starts the app in the background. It does not wait to see whether the app stays
 * up: the health step sees an app that exits (its process is gone) and fails with its output.
 * The install goes through the owner's dependency cache (dependency-cache/): kept in a
 * redeploy's sandbox or restored from an archive when its key matches, else run and saved in the
 * background once the app started.
 */
import { STATIC_SERVER_PATH, STATIC_SERVER_SOURCE } from '../build-plan/static-server.ts';
import { APP_DIR, APP_STDERR_LOG, APP_STDOUT_LOG, BUILD_LOG, INSTALL_LOG, LOG_DIR } from '../app-layout.ts';
import { readDiagnostics } from '../app-output.ts';
import { nowOf, type Uses } from '../dependencies.ts';
import { filesUploaded, type DependencyOutcome, type Deployment } from '../deployment.ts';
import {
  prepareDependencies,
  saveDependencies,
  type DependencyCacheSettings,
  type DependencyContext,
  type PreparedDependencies,
} from '../dependency-cache/prepare-dependencies.ts';
import {
  BuildFailedError,
  DeploymentStateError,
  InstallFailedError,
  StepTimeBudgetError,
  UploadIncompleteError,
} from '../errors.ts';
import { explainFailure, failureMessage } from '../failures/explain-failure.ts';
import type { FailurePhase } from '../failures/failure-hints.ts';
import { phaseEnv, runnablePlan, type RunnablePlan, type RunPhase } from '../run-plan.ts';
import type { SandboxHandle } from '../../sandbox/sandbox-provider.ts';
import { loadDeployment } from '../load-deployment.ts';
import { timestampedBackgroundCommand, timestampedCommand } from '../logs/timestamp-lines.ts';
import { shellQuote } from '../../shell-quote.ts';

export interface StartAppOptions {
  installTimeoutMs: number;
  buildTimeoutMs: number;
  healthTimeoutSeconds: number;
  /** What is left of the invocation; commands never run past it. */
  remainingMs?: () => number;
  /** The dependency cache's limits (defaults: DEFAULT_DEPENDENCY_CACHE_SETTINGS). */
  dependencyCache?: DependencyCacheSettings;
}

export const DEFAULT_START_OPTIONS: StartAppOptions = { installTimeoutMs: 480_000, buildTimeoutMs: 300_000, healthTimeoutSeconds: 60 };

/** Kept free at the end of the invocation for recording the result. */
const SAFETY_MARGIN_MS = 10_000;
/** A command given less than this would only fail for lack of time. */
const MIN_COMMAND_MS = 5_000;

export async function startApp(
  dependencies: Uses<'deployments' | 'sandboxes' | 'staging' | 'dependencyCache'>,
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
  const { env: userEnv } = await dependencies.staging.getManifest(deploymentId);
  const plan = runnablePlan(deployment);
  const port = deployment.options.port;
  const run = new PhaseRunner(sandbox, plan, userEnv, port, options);

  if (plan.providedFiles?.includes('static-server')) {
    // The product's own static file server: nothing to install for a folder of static files.
    await sandbox.writeFiles([{ path: STATIC_SERVER_PATH, content: STATIC_SERVER_SOURCE }]);
  }
  let cached: { context: DependencyContext; prepared: PreparedDependencies } | undefined;
  if (plan.install) {
    const context: DependencyContext = {
      cache: dependencies.dependencyCache,
      sandbox,
      deployment,
      ...(await previousDeployment(dependencies, deployment)),
      ...(plan.packageManager ? { packageManager: plan.packageManager } : {}),
      installCommand: plan.install.command,
      installEnv: phaseEnv(plan, 'install', userEnv, port),
      ...(options.remainingMs ? { remainingMs: options.remainingMs } : {}),
      ...(options.dependencyCache ? { settings: options.dependencyCache } : {}),
    };
    cached = { context, prepared: await prepareDependencies(context) };
    if (cached.prepared.installNeeded) {
      const installStarted = Date.now();
      await run.toCompletion('install', plan.install.command, INSTALL_LOG, options.installTimeoutMs, cached.prepared.logLine);
      cached.prepared.outcome = { ...cached.prepared.outcome, durationMs: Date.now() - installStarted };
    }
  }
  if (plan.build) await run.toCompletion('build', plan.build.command, BUILD_LOG, options.buildTimeoutMs);

  // Every output line gets a timestamp as it is written, so logs from several sources merge in order.
  const { pid } = await sandbox.startBackground(timestampedBackgroundCommand(plan.start.command), {
    cwd: APP_DIR,
    env: phaseEnv(plan, 'start', userEnv, port),
    stdoutPath: APP_STDOUT_LOG,
    stderrPath: APP_STDERR_LOG,
  });
  // After the start, so that packing the archive never delays the app.
  const outcome = cached ? await saveDependencies(cached.context, cached.prepared) : undefined;
  const healthDeadline = new Date(nowOf(dependencies).getTime() + options.healthTimeoutSeconds * 1000).toISOString();
  await deployments.transition(deploymentId, 'CHECKING_HEALTH', { appPid: pid, healthDeadline, ...(outcome ? dependencyChanges(deployment, outcome) : {}) });
  return { pid };
}

/** A redeploy's predecessor, whose record says under which key its dependencies were installed. */
async function previousDeployment(dependencies: Uses<'deployments'>, deployment: Deployment): Promise<Pick<DependencyContext, 'previous'>> {
  if (!deployment.reusedFrom) return {};
  const previous = await dependencies.deployments.get(deployment.reusedFrom.deploymentId);
  return previous ? { previous } : {};
}

/** The outcome on the record, and as a note of the plan (which says how the app is installed). */
function dependencyChanges(deployment: Deployment, outcome: DependencyOutcome): Pick<Deployment, 'dependencies' | 'plan'> {
  const plan = deployment.plan;
  if (!plan || plan.notes.includes(outcome.message)) return { dependencies: outcome };
  return { dependencies: outcome, plan: { ...plan, notes: [...plan.notes, outcome.message] } };
}

const FAILED_ERROR: Record<Exclude<RunPhase, 'start'>, new (message: string) => Error> = {
  install: InstallFailedError,
  build: BuildFailedError,
};

/** Runs a plan's commands to completion, each within the invocation's remaining time. */
class PhaseRunner {
  readonly #sandbox: SandboxHandle;
  readonly #plan: RunnablePlan;
  readonly #userEnv: Record<string, string>;
  readonly #port: number;
  readonly #options: StartAppOptions;

  constructor(sandbox: SandboxHandle, plan: RunnablePlan, userEnv: Record<string, string>, port: number, options: StartAppOptions) {
    this.#sandbox = sandbox;
    this.#plan = plan;
    this.#userEnv = userEnv;
    this.#port = port;
    this.#options = options;
  }

  /** `preface`: a line for the log before the command's output (in the same sandbox call). */
  async toCompletion(phase: 'install' | 'build', command: string, logPath: string, limitMs: number, preface?: string): Promise<void> {
    const timeoutMs = this.#timeout(phase, limitMs);
    const started = Date.now();
    const before = preface ? `${timestampedCommand(`echo ${shellQuote(preface)}`)} >> ${logPath} 2>&1; ` : '';
    const result = await this.#sandbox.run(`${before}${timestampedCommand(command)} >> ${logPath} 2>&1`, {
      cwd: APP_DIR,
      env: phaseEnv(this.#plan, phase, this.#userEnv, this.#port),
      timeoutMs,
    });
    if (result.exitCode === 0) return;
    const { output, memory } = await readDiagnostics(this.#sandbox, [logPath]);
    const timedOut = Date.now() - started >= timeoutMs - 1_000;
    const summary = timedOut
      ? `${phase} command "${command}" did not finish within ${Math.round(timeoutMs / 1000)} s`
      : `${phase} command "${command}" exited with code ${result.exitCode}`;
    const explained = explainFailure(summary, {
      phase: phase satisfies FailurePhase,
      command,
      exitCode: result.exitCode,
      output: output || result.stderr || result.stdout,
      ...(memory.oomKills > 0 ? { outOfMemory: { limitBytes: memory.limitBytes } } : {}),
    });
    throw new FAILED_ERROR[phase](failureMessage(explained));
  }

  /** The command's deadline: its limit, or what the invocation has left; too little is an error. */
  #timeout(phase: RunPhase, limitMs: number): number {
    const remaining = this.#options.remainingMs?.();
    if (remaining === undefined) return limitMs;
    const available = remaining - SAFETY_MARGIN_MS;
    if (available < MIN_COMMAND_MS) {
      throw new StepTimeBudgetError(`only ${Math.max(0, Math.round(remaining / 1000))} s of the start step are left: not enough to run the ${phase}`);
    }
    return Math.min(limitMs, available);
  }
}
