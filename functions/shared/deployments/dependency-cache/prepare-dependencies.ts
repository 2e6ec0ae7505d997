/**
 * The start step's dependency cache: before the install, learn the key (one probe command),
 * decide, and keep or restore the dependencies when it can; after the app started, save an
 * archive of a fresh install in the background. The cache only ever saves time: a cache that
 * cannot be read, an archive that cannot be restored or a save that fails ends in a normal
 * install (or none saved), said in the install log and in the record, never in a failure.
 */
import { APP_DIR, INSTALL_LOG } from '../app-layout.ts';
import type { DependencyOutcome, Deployment } from '../deployment.ts';
import type { PlannedPackageManager } from '../build-plan/plan-types.ts';
import type { DependencyCache } from '../ports.ts';
import { timestampedBackgroundCommand, timestampedCommand } from '../logs/timestamp-lines.ts';
import type { SandboxHandle } from '../../sandbox/sandbox-provider.ts';
import { archiveFormat, type DependencyArchiveFormat } from './archive-format.ts';
import { restoreScript, saveScript, RESTORE_FAILED_EXIT } from './archive-scripts.ts';
import { cacheability, lockfilesOf } from './cacheable-install.ts';
import { dependencyCacheKey } from './cache-key.ts';
import { decideDependencies, type DependencyDecision } from './decide-dependencies.ts';
import { dependencyProbeScript, parseDependencyProbe, type SandboxDependencyFacts } from './dependency-probe.ts';

export interface DependencyCacheSettings {
  /** The longest a restore may take before an install is tried instead. */
  restoreTimeoutMs: number;
  /** How long a presigned URL stays valid. */
  urlExpirySeconds: number;
  /** Archives larger than this are not saved. */
  maxArchiveBytes: number;
}

export const DEFAULT_DEPENDENCY_CACHE_SETTINGS: DependencyCacheSettings = {
  restoreTimeoutMs: 180_000,
  urlExpirySeconds: 3600,
  maxArchiveBytes: 2 * 1024 ** 3,
};

const PROBE_TIMEOUT_MS = 30_000;
const LOG_LINE_TIMEOUT_MS = 15_000;
/** Kept free of a restore at the end of the invocation (for the install, the build and the start). */
const RESTORE_MARGIN_MS = 20_000;

export interface DependencyContext {
  cache: DependencyCache;
  sandbox: SandboxHandle;
  deployment: Pick<Deployment, 'userId'>;
  /** The previous deployment of a redeploy into a live sandbox, with what it installed. */
  previous?: Pick<Deployment, 'dependencies'>;
  packageManager?: PlannedPackageManager;
  installCommand: string;
  /** The install's environment (the plan's and the caller's), of which the key covers the package managers' variables. */
  installEnv: Readonly<Record<string, string>>;
  remainingMs?: () => number;
  settings?: DependencyCacheSettings;
}

export interface PreparedDependencies {
  /** False when the dependencies are in place (restored or kept): the install is skipped. */
  installNeeded: boolean;
  /** What the record and the logs say (the start step adds the install's duration). */
  outcome: DependencyOutcome;
  /** A line for the install log before the install runs, when it does. */
  logLine?: string;
  /** Set when the install's node_modules should be saved to the cache once the app started. */
  save?: { key: string; format: DependencyArchiveFormat };
}

export async function prepareDependencies(context: DependencyContext): Promise<PreparedDependencies> {
  const { sandbox, cache, deployment } = context;
  const settings = context.settings ?? DEFAULT_DEPENDENCY_CACHE_SETTINGS;
  const facts = await probeSandbox(sandbox, lockfilesOf(context.packageManager?.name ?? ''));
  const eligible = cacheability({ installCommand: context.installCommand, installEnv: context.installEnv, ...(context.packageManager ? { packageManager: context.packageManager } : {}) }, facts);
  const key = eligible.cacheable ? dependencyCacheKey(eligible.inputs) : undefined;
  const format = archiveFormat(facts.zstd);
  const lockfile = facts.lockfile?.name;
  const previousKey = context.previous?.dependencies?.key ?? undefined;

  let cacheProblem: string | undefined;
  let entry;
  if (key && !(previousKey === key && facts.installedKey === key)) {
    try {
      entry = await cache.find(deployment.userId, key, format);
    } catch (error) {
      cacheProblem = `the dependency cache could not be read (${(error as Error).message})`;
    }
  }
  const decision = decideDependencies({
    ...(key ? { key } : {}),
    ...(eligible.cacheable ? {} : { offReason: eligible.reason }),
    ...(previousKey ? { previousKey } : {}),
    ...(facts.installedKey ? { installedKey: facts.installedKey } : {}),
    ...(entry ? { entry } : {}),
  });
  const base = { ...(lockfile ? { lockfile } : {}) };
  // An earlier deployment's save still packing node_modules must not see them change under it.
  if (facts.savingPid && decision.action !== 'keep') {
    await sandbox.run(`kill -TERM -- -${facts.savingPid} 2>/dev/null; true`, { timeoutMs: LOG_LINE_TIMEOUT_MS });
  }
  switch (decision.action) {
    case 'keep': {
      const message = `dependencies kept from the previous deployment (${lockfile} unchanged, key ${short(decision.key)}): install skipped`;
      await logLine(sandbox, message);
      return { installNeeded: false, outcome: { ...base, key: decision.key, source: 'kept-from-previous-deployment', cache: 'kept', message } };
    }
    case 'restore':
      return restore(context, settings, decision, format, base);
    case 'install-and-save': {
      const why = cacheProblem ?? `no cached dependencies for this ${lockfile} yet`;
      const message = `${why}: installing them (key ${short(decision.key)}), then saving them to the cache in the background`;
      return { installNeeded: true, logLine: message, outcome: { ...base, key: decision.key, source: 'installed', cache: 'miss', message }, save: { key: decision.key, format } };
    }
    case 'install': {
      const message = `dependencies are installed, not cached: ${decision.reason}`;
      return { installNeeded: true, logLine: message, outcome: { ...base, key: null, source: 'installed', cache: 'off', message } };
    }
  }
}

async function restore(
  context: DependencyContext,
  settings: DependencyCacheSettings,
  decision: Extract<DependencyDecision, { action: 'restore' }>,
  format: DependencyArchiveFormat,
  base: { lockfile?: string },
): Promise<PreparedDependencies> {
  const { sandbox, cache, deployment } = context;
  const { key, entry } = decision;
  const message = `dependencies restored from cache (${base.lockfile} unchanged, key ${short(key)}, ${megabytes(entry.bytes)} ${format}): install skipped`;
  const remaining = context.remainingMs?.();
  const timeoutMs = Math.min(settings.restoreTimeoutMs, remaining === undefined ? Infinity : remaining - RESTORE_MARGIN_MS);
  let failure: string;
  if (timeoutMs < 5_000) {
    failure = 'too little time is left of the start step to restore them';
  } else {
    const started = Date.now();
    try {
      const url = await cache.restoreUrl(deployment.userId, key, format, settings.urlExpirySeconds);
      const result = await sandbox.run(`set -o pipefail; ${timestampedCommand(restoreScript(format))} | tee -a ${INSTALL_LOG}`, {
        cwd: APP_DIR,
        env: { CR_CACHE_URL: url, CR_CACHE_KEY: key, CR_CACHE_MESSAGE: message },
        timeoutMs,
      });
      if (result.exitCode === 0) {
        return {
          installNeeded: false,
          outcome: { ...base, key, source: 'cache', cache: 'hit', message, archive: { format, bytes: entry.bytes }, durationMs: Date.now() - started },
        };
      }
      failure = /could not be restored from cache \((.*)\): installing them/.exec(result.stdout)?.[1] ?? `the restore ended with exit code ${result.exitCode}`;
      if (result.exitCode !== RESTORE_FAILED_EXIT) await removeNodeModules(sandbox);
    } catch (error) {
      failure = `the restore failed: ${(error as Error).message}`;
      await removeNodeModules(sandbox);
    }
  }
  const fallback = `the cached dependencies could not be restored (${failure}): installing them (key ${short(key)}), then saving them to the cache again`;
  return {
    installNeeded: true,
    logLine: fallback,
    outcome: { ...base, key, source: 'installed', cache: 'unreadable', message: fallback },
    save: { key, format },
  };
}

/**
 * After the app started: saves the install's node_modules in the background, when the
 * preparation asked for it. Never throws; the outcome says whether a save is under way.
 */
export async function saveDependencies(context: DependencyContext, prepared: PreparedDependencies): Promise<DependencyOutcome> {
  if (!prepared.save) return prepared.outcome;
  const settings = context.settings ?? DEFAULT_DEPENDENCY_CACHE_SETTINGS;
  const { key, format } = prepared.save;
  try {
    const url = await context.cache.saveUrl(context.deployment.userId, key, format, settings.urlExpirySeconds);
    await context.sandbox.startBackground(timestampedBackgroundCommand(saveScript(format)), {
      cwd: APP_DIR,
      env: { CR_CACHE_URL: url, CR_CACHE_KEY: key, CR_CACHE_MAX_BYTES: String(settings.maxArchiveBytes) },
      stdoutPath: INSTALL_LOG,
      stderrPath: INSTALL_LOG,
    });
    return { ...prepared.outcome, archive: { format }, saving: true };
  } catch (error) {
    return { ...prepared.outcome, saving: false, message: `${prepared.outcome.message} (the save could not start: ${(error as Error).message})` };
  }
}

/** What the sandbox says; nothing to ask when the package manager follows no lockfile the cache knows. */
async function probeSandbox(sandbox: SandboxHandle, lockfiles: readonly string[]): Promise<SandboxDependencyFacts> {
  if (lockfiles.length === 0) return parseDependencyProbe('');
  const probe = await sandbox.run(dependencyProbeScript(lockfiles), { cwd: APP_DIR, timeoutMs: PROBE_TIMEOUT_MS });
  return parseDependencyProbe(probe.exitCode === 0 ? probe.stdout : '');
}

/** After a restore that ended early (a deadline): what it unpacked must not confuse the install. */
async function removeNodeModules(sandbox: SandboxHandle): Promise<void> {
  try {
    await sandbox.run('rm -rf node_modules', { cwd: APP_DIR, timeoutMs: 60_000 });
  } catch {
    // The install that follows meets the same sandbox, and says what is wrong with it.
  }
}

/** One timestamped line in the install log. */
async function logLine(sandbox: SandboxHandle, message: string): Promise<void> {
  await sandbox.run(`${timestampedCommand('echo "$CR_CACHE_MESSAGE"')} >> ${INSTALL_LOG} 2>&1`, {
    cwd: APP_DIR,
    env: { CR_CACHE_MESSAGE: message },
    timeoutMs: LOG_LINE_TIMEOUT_MS,
  });
}

function short(key: string): string {
  return key.slice(0, 12);
}

function megabytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${Math.max(1, Math.round(bytes / 1024))} KiB`;
}
