/**
 * The dependency cache key: what decides the node_modules an install produces. Two installs with
 * the same key install the same tree, so one's archive can stand in for the other's install.
 */
import { createHash } from 'node:crypto';

/** Bumped when the archive's layout or what it holds changes: older entries then miss. */
export const DEPENDENCY_CACHE_FORMAT = 1;

export interface DependencyKeyInputs {
  /** The lockfile the install follows, by name and the SHA-256 of its content. */
  lockfile: { name: string; sha256: string };
  /** The package manager and its release: the plan's pinned one, or the sandbox's own npm. */
  packageManager: { name: string; version?: string };
  /** The install command exactly as it runs. */
  installCommand: string;
  /** The major version of the sandbox's Node (native modules and engines depend on it). */
  nodeMajor: number;
  /** The sandbox's machine architecture (`uname -m`), for native modules. */
  arch: string;
  /** Files beside the lockfile that change what an install does (.npmrc, .yarnrc.yml, ...), by SHA-256. */
  configFiles?: Readonly<Record<string, string>>;
  /** The install's environment that changes what it installs (NODE_ENV, npm_config_*, ...). */
  installEnv?: Readonly<Record<string, string>>;
}

/** SHA-256 (hex) over every input, in a canonical order: any change is another key. */
export function dependencyCacheKey(inputs: DependencyKeyInputs): string {
  const canonical = JSON.stringify([
    DEPENDENCY_CACHE_FORMAT,
    inputs.lockfile.name,
    inputs.lockfile.sha256,
    inputs.packageManager.name,
    inputs.packageManager.version ?? null,
    inputs.installCommand,
    inputs.nodeMajor,
    inputs.arch,
    sortedEntries(inputs.configFiles),
    sortedEntries(inputs.installEnv),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** Environment names that change what an install puts into node_modules. */
const INSTALL_ENV_NAME = /^(?:NODE_ENV|npm_config_.+|yarn_.+|pnpm_.+|bun_.+)$/i;

/** The part of an install's environment the key covers: the variables package managers read. */
export function installEnvForKey(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter(([name]) => INSTALL_ENV_NAME.test(name)));
}

function sortedEntries(record: Readonly<Record<string, string>> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
