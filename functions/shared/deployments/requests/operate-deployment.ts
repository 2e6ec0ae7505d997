/**
 * Operating a live deployment: extend its sandbox's lifetime, probe it now, read its logs.
 */
import { isTerminal } from '../deployment-status.ts';
import type { Deployment } from '../deployment.ts';
import { nowOf, type Uses } from '../dependencies.ts';
import { NoLiveSandboxError, LifetimeOutOfBoundsError } from '../errors.ts';
import { collectLogs } from '../logs/collect-logs.ts';
import type { LogEntry } from '../logs/log-entry.ts';
import type { LogQuery } from '../logs/log-query.ts';
import { probeApp, type ProbeResult } from '../probe-app.ts';
import { loadOwnDeployment } from './load-own-deployment.ts';
import { SandboxGoneError, SandboxNotFoundError } from '../../sandbox/errors.ts';
import { latestEnd, userLimits } from '../quotas/deployment-quotas.ts';
import type { QuotaLimits } from '../quotas/quota-limits.ts';

/** The sandbox of a deployment that keeps it: not while it is being stopped, nor once it ended. */
function requireSandbox(deployment: Deployment): string {
  if (!deployment.sandboxId || isTerminal(deployment.status) || deployment.status === 'STOPPING') {
    throw new NoLiveSandboxError(`deployment ${deployment.deploymentId} is ${deployment.status} and has no live sandbox`);
  }
  return deployment.sandboxId;
}

/**
 * Keep-alive: the sandbox lives `seconds` from now, but never past the longest the user's
 * sandboxes may live from their creation (a quota; repeating keep-alives cannot get around it).
 */
export async function extendLifetime(
  dependencies: Uses<'deployments' | 'sandboxes' | 'quotas'>,
  userId: string,
  deploymentId: string,
  seconds: number,
  quotaDefaults: QuotaLimits,
): Promise<Deployment> {
  if (!Number.isInteger(seconds) || seconds < 60) throw new LifetimeOutOfBoundsError('seconds must be an integer of at least 60');
  const deployment = await loadOwnDeployment(dependencies.deployments, userId, deploymentId);
  const sandboxId = requireSandbox(deployment);
  const limits = await userLimits(dependencies, userId, quotaDefaults);
  const now = nowOf(dependencies);
  const latest = latestEnd(deployment, limits);
  const allowed = Math.floor((latest.getTime() - now.getTime()) / 1000);
  if (seconds > allowed) {
    throw new LifetimeOutOfBoundsError(
      `seconds must be at most ${Math.max(0, allowed)}: the sandbox may live until ${latest.toISOString()}, ${limits.maxSandboxLifetimeSeconds} s after its creation (your quota: longest sandbox lifetime)`,
    );
  }
  await dependencies.sandboxes.extendLifetime(sandboxId, seconds);
  const expiresAt = new Date(now.getTime() + seconds * 1000).toISOString();
  return dependencies.deployments.update(deploymentId, { expiresAt });
}

export interface LiveHealth {
  deploymentId: string;
  status: string;
  checkedAt: string;
  /** The app's answer, when it has a port to probe. */
  probe: ProbeResult | null;
  /** When the app does not answer: whether its sandbox is alive at all. */
  sandbox: { sandboxId: string | null; alive: boolean } | null;
}

/** A live probe now: the health path (falling back to / on 404), else the sandbox's own state. */
export async function liveHealth(dependencies: Uses<'deployments' | 'sandboxes'>, userId: string, deploymentId: string): Promise<LiveHealth> {
  const deployment = await loadOwnDeployment(dependencies.deployments, userId, deploymentId);
  const checkedAt = nowOf(dependencies).toISOString();
  const base = { deploymentId, status: deployment.status, checkedAt };
  if (!deployment.sandboxId || isTerminal(deployment.status)) {
    return { ...base, probe: null, sandbox: { sandboxId: deployment.sandboxId ?? null, alive: false } };
  }
  // Only "not found" and "gone" mean dead; a provider that is rate limiting or unreachable says
  // nothing about the sandbox (the API answers 503/502 for those).
  const sandbox = await dependencies.sandboxes.connect(deployment.sandboxId).catch((error: unknown) => {
    if (error instanceof SandboxNotFoundError || error instanceof SandboxGoneError) return undefined;
    throw error;
  });
  if (!sandbox) return { ...base, probe: null, sandbox: { sandboxId: deployment.sandboxId, alive: false } };
  const probe = await probeApp(sandbox.portUrl(deployment.options.port), deployment.options.healthPath);
  if (probe.statusCode !== undefined && probe.statusCode < 500) return { ...base, probe, sandbox: null };
  return { ...base, probe, sandbox: { sandboxId: deployment.sandboxId, alive: await sandbox.isAlive() } };
}

export interface DeploymentLogs {
  lines: LogEntry[];
  /** Set when the lines come from the logs saved before the sandbox was killed. */
  saved?: { savedAt: string; endedAs: string };
}

/**
 * The live sandbox's logs; once the deployment has ended, the logs saved from its sandbox before
 * it was killed (filtered the same way).
 */
export async function deploymentLogs(
  dependencies: Uses<'deployments' | 'sandboxes' | 'logArchive'>,
  userId: string,
  deploymentId: string,
  query: LogQuery & { appLogGlob?: string; includeNpmDebug?: boolean },
): Promise<DeploymentLogs> {
  const deployment = await loadOwnDeployment(dependencies.deployments, userId, deploymentId);
  if (deployment.sandboxId && !isTerminal(deployment.status)) {
    const sandbox = await dependencies.sandboxes.connect(deployment.sandboxId);
    return { lines: await collectLogs(sandbox, query) };
  }
  const saved = await dependencies.logArchive.load(deploymentId);
  if (!saved && deployment.replacedBy) {
    // A redeploy took the sandbox over: what it logs now is the new deployment's.
    throw new NoLiveSandboxError(
      `deployment ${deploymentId} is ${deployment.status}: it was replaced by ${deployment.replacedBy}, which took over its sandbox and its logs; read the logs of ${deployment.replacedBy}`,
    );
  }
  if (!saved) {
    throw new NoLiveSandboxError(`deployment ${deploymentId} is ${deployment.status}: it has no live sandbox and no saved logs`);
  }
  const lines = saved.lines
    .filter((entry) => (query.includeNpmDebug || entry.source !== 'npm') && (!query.since || Date.parse(entry.timestamp) >= query.since.getTime()))
    .slice(-query.lines);
  return { lines, saved: { savedAt: saved.savedAt, endedAs: saved.endedAs } };
}
