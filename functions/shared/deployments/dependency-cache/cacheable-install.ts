/**
 * Whether an install can be cached, and under which inputs. Only an install whose whole effect
 * is the app directory's node_modules can be replaced by an archive of it: a Node package
 * manager's plain install, following a lockfile, in a project without workspaces (their
 * node_modules are in several folders) whose package.json runs nothing at install time (its
 * output outside node_modules would be missing).
 */
import { LOCKFILES, lockfileOwner } from '../build-plan/lockfiles.ts';
import type { PlannedPackageManager } from '../build-plan/plan-types.ts';
import { installEnvForKey, type DependencyKeyInputs } from './cache-key.ts';
import type { SandboxDependencyFacts } from './dependency-probe.ts';

export type Cacheability = { cacheable: true; inputs: DependencyKeyInputs } | { cacheable: false; reason: string };

/** npm runs these scripts of the project's own package.json during `npm ci`/`npm install` (so do yarn and pnpm). */
const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall', 'prepublish', 'preprepare', 'prepare', 'postprepare', 'dependencies'];

/**
 * A package manager's install and nothing else: flags may follow, but no other command
 * (`&&`, `;`, `|`, redirections) and no arguments (a package name would change the tree).
 */
const PLAIN_INSTALL =
  /^(?:npm (?:ci|install|i)|npx --yes (?:yarn|pnpm|@yarnpkg\/cli-dist)@[\w.-]+ install|node [\w./-]+ install|yarn(?: install)?|pnpm (?:install|i)|bun install)(?: --?[a-z][\w-]*(?:=[\w.@/:-]+)?)*$/;

/** The lockfiles a package manager follows, in the order the plan prefers them. */
export function lockfilesOf(packageManager: string): string[] {
  if (packageManager !== 'npm' && packageManager !== 'pnpm' && packageManager !== 'yarn' && packageManager !== 'bun') return [];
  return LOCKFILES.filter((lockfile) => lockfileOwner(lockfile) === packageManager);
}

export interface InstallToCache {
  packageManager?: PlannedPackageManager;
  installCommand: string;
  /** The install's environment (the plan's for the install phase and the caller's). */
  installEnv: Readonly<Record<string, string>>;
}

export function cacheability(install: InstallToCache, facts: SandboxDependencyFacts): Cacheability {
  const { packageManager, installCommand } = install;
  if (!packageManager || lockfilesOf(packageManager.name).length === 0) return off('only Node package installs are cached');
  if (!PLAIN_INSTALL.test(installCommand.trim())) return off(`the install command "${installCommand}" may do more than install packages`);
  if (!facts.lockfile) return off(`no lockfile (${lockfilesOf(packageManager.name).join(' or ')}) pins the dependencies`);
  if (facts.nodeMajor === undefined || !facts.arch) return off("the sandbox's Node version or architecture could not be read");
  if (facts.configFiles['pnpm-workspace.yaml']) return off('a pnpm workspace installs into several node_modules folders');
  let manifest: { workspaces?: unknown; scripts?: Record<string, unknown> } = {};
  try {
    manifest = facts.packageJson ? (JSON.parse(facts.packageJson) as typeof manifest) : {};
  } catch {
    return off('package.json could not be read');
  }
  if (manifest.workspaces) return off('a workspace project installs into several node_modules folders');
  const script = INSTALL_SCRIPTS.find((name) => typeof manifest.scripts?.[name] === 'string');
  if (script) return off(`package.json's "${script}" script runs at install time and may write outside node_modules`);
  const version = packageManager.version ?? (packageManager.name === 'npm' ? facts.npmVersion : undefined);
  return {
    cacheable: true,
    inputs: {
      lockfile: facts.lockfile,
      packageManager: { name: packageManager.name, ...(version ? { version } : {}) },
      installCommand: installCommand.trim(),
      nodeMajor: facts.nodeMajor,
      arch: facts.arch,
      configFiles: facts.configFiles,
      installEnv: installEnvForKey(install.installEnv),
    },
  };
}

function off(reason: string): Cacheability {
  return { cacheable: false, reason };
}
