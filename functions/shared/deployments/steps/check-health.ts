/**
 * Saga step 4: probes the app through its port URL at a short interval, inside one invocation
 * and within its remaining time, and marks the deployment RUNNING as soon as it answers. The
 * state machine calls it again (after a Wait) only when a slow app needs longer than one
 * invocation. It fails as soon as the answer is clear:
 * - the app's process is gone: its output, and the memory limit when the kernel killed it;
 * - the app answers a status waiting will not change (a host check's 403, a 401): the diagnosis;
 * - the deadline passed: the last answer, the start of its body and the app's last lines.
 * An app that listens on another port than expected is found there (read inside the sandbox).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readDiagnostics } from '../app-output.ts';
import type { Deployment } from '../deployment.ts';
import { nowOf, type Uses } from '../dependencies.ts';
import { AppExitedError, AppUnhealthyError, DeploymentStateError, HealthCheckTimeoutError } from '../errors.ts';
import { explainFailure, failureMessage } from '../failures/explain-failure.ts';
import { appPorts, listeningSockets, type ListeningSocket } from '../listening-ports.ts';
import { describeProbe, probeApp, type ProbeOptions, type ProbeResult } from '../probe-app.ts';
import type { SandboxHandle } from '../../sandbox/sandbox-provider.ts';
import { loadDeployment } from '../load-deployment.ts';
import { releaseQuotaSlots } from '../quotas/deployment-quotas.ts';

export interface HealthCheckResult {
  healthy: boolean;
  probe?: ProbeResult;
  appUrl?: string;
  /** True only for the call that moved the deployment to RUNNING (not for a retry). */
  becameRunning?: boolean;
}

export interface CheckHealthOptions {
  probe?: ProbeOptions;
  /** What is left of the invocation; the step returns (not healthy yet) before it runs out. */
  remainingMs?: () => number;
  /** The first pause between probes; it grows up to maxIntervalMs. */
  firstIntervalMs?: number;
  maxIntervalMs?: number;
  /** Longest one invocation probes, whatever time is left. */
  maxInvocationMs?: number;
  /** How long nothing may listen on the port before the sandbox is asked where the app listens. */
  portSearchAfterMs?: number;
  /** How long the app may answer one status that waiting will not change before the step gives up. */
  settledAnswerMs?: number;
}

const DEFAULTS = {
  firstIntervalMs: 25,
  maxIntervalMs: 1_000,
  maxInvocationMs: 20_000,
  portSearchAfterMs: 1_500,
  settledAnswerMs: 4_000,
} satisfies Partial<CheckHealthOptions>;
/** Kept free at the end of the invocation for recording the result. */
const SAFETY_MARGIN_MS = 4_000;
const PROBE_TIMEOUT_MS = 5_000;
const APP_LINES_SHOWN = 12;

export async function checkHealth(dependencies: Uses<'deployments' | 'sandboxes' | 'staging' | 'quotas'>, deploymentId: string, options: CheckHealthOptions = {}): Promise<HealthCheckResult> {
  const settings = { ...DEFAULTS, ...options };
  const { deployments, sandboxes } = dependencies;
  let deployment = await loadDeployment(deployments, deploymentId);
  if (deployment.status === 'RUNNING') return { healthy: true, appUrl: deployment.appUrl };
  if (deployment.status !== 'CHECKING_HEALTH' || !deployment.sandboxId) {
    throw new DeploymentStateError(deploymentId, deployment.status, 'CHECKING_HEALTH');
  }
  const sandbox = await sandboxes.connect(deployment.sandboxId);
  const startedAt = Date.now();
  const budgetMs = Math.min(settings.maxInvocationMs, (options.remainingMs?.() ?? settings.maxInvocationMs + SAFETY_MARGIN_MS) - SAFETY_MARGIN_MS);
  const probeTimeoutMs = Math.min(options.probe?.timeoutMs ?? PROBE_TIMEOUT_MS, Math.max(1_000, budgetMs));
  const watch = new AnswerWatch();
  let portSearched = false;
  let interval = settings.firstIntervalMs;

  for (;;) {
    await assertAppAlive(sandbox, deployment);
    const appUrl = sandbox.portUrl(deployment.options.port);
    const probe = await probeApp(appUrl, deployment.options.healthPath, { ...options.probe, timeoutMs: probeTimeoutMs });
    if (probe.healthy) {
      const running = await deployments.transition(deploymentId, 'RUNNING', { appUrl, healthyPath: probe.path });
      // It is no longer in flight; the staged files (and the env in the manifest) are not needed any more.
      await releaseQuotaSlots(dependencies, running, ['deploymentsInFlight']);
      await dependencies.staging.deleteAll(deploymentId).catch(() => undefined);
      return { healthy: true, probe, appUrl, becameRunning: true };
    }
    watch.record(probe);

    if (!portSearched && !answered(probe) && watch.unansweredForMs() >= settings.portSearchAfterMs) {
      portSearched = true;
      const elsewhere = await listeningElsewhere(sandbox, deployment);
      if (elsewhere && deployment.plan?.port.source !== 'option') {
        deployment = await deployments.update(deploymentId, adoptPort(deployment, elsewhere));
        watch.reset();
        continue;
      }
      // A port the caller gave is kept: the app will not move to it by waiting.
      if (elsewhere) throw new AppUnhealthyError(await wrongPortMessage(sandbox, deployment, elsewhere));
    }
    if (answered(probe) && !mayChangeByWaiting(probe) && watch.sameAnswerForMs() >= settings.settledAnswerMs) {
      throw new AppUnhealthyError(await unhealthyMessage(sandbox, deployment, probe));
    }
    if (deployment.healthDeadline && nowOf(dependencies) >= new Date(deployment.healthDeadline)) {
      throw new HealthCheckTimeoutError(await timeoutMessage(sandbox, deployment, probe));
    }
    if (Date.now() - startedAt + interval >= budgetMs) return { healthy: false, probe };
    await sleep(interval);
    interval = Math.min(settings.maxIntervalMs, Math.round(interval * 1.6));
  }
}

/** The app answered itself (not the sandbox's proxy saying that nothing listens). */
function answered(probe: ProbeResult): boolean {
  return probe.statusCode !== undefined && probe.statusCode !== 502;
}

/** 5xx and 404 (a route mounted late) can turn healthy; other 4xx come from a decision. */
function mayChangeByWaiting(probe: ProbeResult): boolean {
  const status = probe.statusCode ?? 0;
  return status >= 500 || status === 404 || status === 408 || status === 425 || status === 429;
}

/** Tracks how long the app has not answered, and how long it has answered the same status. */
class AnswerWatch {
  #unansweredSince: number | undefined = Date.now();
  #status: number | undefined;
  #statusSince = Date.now();

  record(probe: ProbeResult): void {
    const now = Date.now();
    if (answered(probe)) this.#unansweredSince = undefined;
    else this.#unansweredSince ??= now;
    if (probe.statusCode !== this.#status) {
      this.#status = probe.statusCode;
      this.#statusSince = now;
    }
  }

  reset(): void {
    this.#unansweredSince = Date.now();
    this.#status = undefined;
    this.#statusSince = Date.now();
  }

  unansweredForMs(): number {
    return this.#unansweredSince === undefined ? 0 : Date.now() - this.#unansweredSince;
  }

  sameAnswerForMs(): number {
    return Date.now() - this.#statusSince;
  }
}

/** Our app must be the one answering (after a redeploy, an old app could still hold the port). */
async function assertAppAlive(sandbox: SandboxHandle, deployment: Deployment): Promise<void> {
  const running = (await sandbox.listProcesses()).some((process) => process.pid === deployment.appPid);
  if (running) return;
  const { output, memory } = await readDiagnostics(sandbox);
  const oom = memory.oomKills > 0;
  const summary = oom ? 'the app was killed: out of memory' : 'the app exited before it became healthy';
  const explained = explainFailure(summary, {
    phase: 'health',
    command: deployment.plan?.start.command ?? deployment.options.startCommand,
    output,
    installed: Boolean(deployment.plan?.install ?? deployment.options.installCommand),
    port: deployment.options.port,
    ...(oom ? { outOfMemory: { limitBytes: memory.limitBytes } } : {}),
  });
  throw new AppExitedError(failureMessage({ ...explained, ...(explained.output.length === 0 ? { output: ['(the app printed nothing)'] } : {}) }));
}

/** Nothing answers on the expected port: the one other port the app listens on, if it has one. */
async function listeningElsewhere(sandbox: SandboxHandle, deployment: Deployment): Promise<ListeningSocket | undefined> {
  const sockets = appPorts(await listeningSockets(sandbox).catch((): ListeningSocket[] => []));
  if (sockets.length === 0 || sockets.some((socket) => socket.port === deployment.options.port)) return undefined;
  return sockets[0];
}

/** The changes that make the deployment use the port the app listens on, and say why. */
function adoptPort(deployment: Deployment, socket: ListeningSocket): Pick<Deployment, 'options' | 'plan'> {
  const reason = `the app listens on port ${socket.port} (read inside the sandbox), not on ${deployment.options.port} (PORT): using ${socket.port}`;
  const plan = deployment.plan ? { ...deployment.plan, port: { value: socket.port, reason, source: 'detected' as const } } : undefined;
  return { options: { ...deployment.options, port: socket.port }, ...(plan ? { plan } : {}) };
}

async function wrongPortMessage(sandbox: SandboxHandle, deployment: Deployment, socket: ListeningSocket): Promise<string> {
  const port = deployment.options.port;
  return [
    `the app listens on ${socket.address}:${socket.port}, not on port ${port} (options.port), so it cannot become healthy`,
    `hint: the app listens on ${socket.address}:${socket.port}, not on port ${port}: listen on $PORT, or set options.port to ${socket.port}`,
    ...(await appLines(sandbox)),
  ].join('\n');
}

async function unhealthyMessage(sandbox: SandboxHandle, deployment: Deployment, probe: ProbeResult): Promise<string> {
  const host = new URL(sandbox.portUrl(deployment.options.port)).host;
  const status = probe.statusCode!;
  const hint =
    status === 403
      ? `the app refuses the sandbox's host name ${host} (a host check, such as Vite's allowedHosts or Django's ALLOWED_HOSTS): allow this host, or all of .${host.split('.').slice(1).join('.').replace(/:\d+$/, '')}`
      : status === 401
        ? `the health path needs credentials: set options.healthPath to a path that answers 2xx without them`
        : `the health path answers ${status}: set options.healthPath to a path that answers 2xx or 3xx`;
  return [
    `the app answers ${describeProbe(probe).replace(/^GET \S+ answered /, '')} on ${probe.path} and waiting will not change it`,
    `hint: ${hint}`,
    ...(probe.bodyPreview ? [`body: ${probe.bodyPreview}`] : []),
    ...(await appLines(sandbox)),
  ].join('\n');
}

async function timeoutMessage(sandbox: SandboxHandle, deployment: Deployment, probe: ProbeResult): Promise<string> {
  const port = deployment.options.port;
  const lines = [`the app did not become healthy by ${deployment.healthDeadline} on port ${port}; last probe: ${describeProbe(probe)}`];
  if (!answered(probe)) {
    const sockets = appPorts(await listeningSockets(sandbox).catch((): ListeningSocket[] => []));
    lines.push(
      sockets.length === 0
        ? `hint: nothing in the sandbox listens on a TCP port: the app must listen on $PORT (${port}) on 0.0.0.0`
        : `hint: the app listens on ${sockets.map((socket) => `${socket.address}:${socket.port}`).join(', ')}, not on port ${port}: listen on $PORT, or set options.port`,
    );
  }
  if (probe.bodyPreview) lines.push(`body: ${probe.bodyPreview}`);
  lines.push(...(await appLines(sandbox)));
  return lines.join('\n');
}

async function appLines(sandbox: SandboxHandle): Promise<string[]> {
  const { output } = await readDiagnostics(sandbox);
  const last = output.split('\n').filter(Boolean).slice(-APP_LINES_SHOWN);
  return last.length > 0 ? ['app output:', ...last.map((line) => `  ${line}`)] : [];
}
