/**
 * What the start step learns from the sandbox before it decides how the dependencies get there,
 * in ONE command: the Node major and architecture the key covers, the sandbox's npm release, the
 * lockfile's and the install's config files' SHA-256, whether zstd is there, the key of the
 * node_modules already in the app directory (a redeploy's), whether a save of them still runs,
 * and package.json.
 */
import { APP_DIR } from '../app-layout.ts';
import { shellQuote } from '../../shell-quote.ts';

/** Written into node_modules after an install (and so inside every archive): the key it was installed under. */
export const DEPENDENCIES_MARKER = 'node_modules/.coderunner-dependencies';
/** The process group of a background save while it runs (a redeploy stops it before it changes node_modules). */
export const SAVE_PID_FILE = '/home/user/.coderunner/dependency-save.pid';
/** Text of the save's own command line (archive-scripts.ts prints it when done). */
export const SAVE_SIGNATURE = 'dependencies saved to the cache';

/** Files beside the lockfile that change what an install does. */
export const INSTALL_CONFIG_FILES: readonly string[] = ['.npmrc', '.yarnrc', '.yarnrc.yml', '.pnpmfile.cjs', 'pnpm-workspace.yaml', 'bunfig.toml'];

const PACKAGE_JSON_SECTION = '@@coderunner-package.json';
/** package.json is read for its scripts and workspaces; the plan reads at most this much too. */
const PACKAGE_JSON_MAX_BYTES = 256 * 1024;

export interface SandboxDependencyFacts {
  nodeMajor?: number;
  /** `uname -m`, e.g. x86_64 or aarch64. */
  arch?: string;
  /** The release of the sandbox's own npm. */
  npmVersion?: string;
  zstd: boolean;
  /** The first of the candidate lockfiles that exists. */
  lockfile?: { name: string; sha256: string };
  /** Config file name -> SHA-256, for those that exist. */
  configFiles: Record<string, string>;
  /** The key the app directory's node_modules was installed under, when it has one. */
  installedKey?: string;
  /** The process group of a save (of an earlier deployment) still running. */
  savingPid?: number;
  /** package.json's text, when there is one. */
  packageJson?: string;
}

/** The probe, looking for the given lockfiles in order (those of the plan's package manager). */
export function dependencyProbeScript(lockfiles: readonly string[]): string {
  const sha = (file: string) => `$(sha256sum < ${file} | cut -c1-64)`;
  return [
    `cd ${APP_DIR} || exit 0`,
    'echo "node=$(node --version 2>/dev/null)"',
    'echo "arch=$(uname -m)"',
    'cr_npm=$(readlink -f "$(command -v npm 2>/dev/null)" 2>/dev/null)',
    `if [ -n "$cr_npm" ]; then sed -n 's/^  "version": "\\([^"]*\\)".*/npm=\\1/p' "\${cr_npm%/bin/*}/package.json" 2>/dev/null | head -n 1; fi`,
    'if command -v zstd >/dev/null 2>&1; then echo zstd=yes; fi',
    `for cr_f in ${lockfiles.map(shellQuote).join(' ')}; do if [ -f "$cr_f" ]; then echo "lockfile=$cr_f ${sha('"$cr_f"')}"; break; fi; done`,
    `for cr_f in ${INSTALL_CONFIG_FILES.map(shellQuote).join(' ')}; do if [ -f "$cr_f" ]; then echo "config=$cr_f ${sha('"$cr_f"')}"; fi; done`,
    `if [ -f ${DEPENDENCIES_MARKER} ]; then echo "installed=$(head -c 64 ${DEPENDENCIES_MARKER})"; fi`,
    // Only while that process is still the save (its command line holds the save's text), never a reused pid.
    `cr_p=$(head -c 16 ${SAVE_PID_FILE} 2>/dev/null); if [ -n "$cr_p" ] && grep -qa '${SAVE_SIGNATURE}' "/proc/$cr_p/cmdline" 2>/dev/null; then echo "saving=$cr_p"; fi`,
    `if [ -f package.json ]; then echo '${PACKAGE_JSON_SECTION}'; head -c ${PACKAGE_JSON_MAX_BYTES} package.json; fi`,
    'true',
  ].join('\n');
}

export function parseDependencyProbe(stdout: string): SandboxDependencyFacts {
  const cut = stdout.indexOf(`${PACKAGE_JSON_SECTION}\n`);
  const head = cut === -1 ? stdout : stdout.slice(0, cut);
  const facts: SandboxDependencyFacts = { zstd: false, configFiles: {} };
  if (cut !== -1) facts.packageJson = stdout.slice(cut + PACKAGE_JSON_SECTION.length + 1);
  for (const line of head.split('\n')) {
    const separator = line.indexOf('=');
    if (separator === -1) continue;
    const name = line.slice(0, separator);
    const value = line.slice(separator + 1).trim();
    if (name === 'node') {
      const major = Number(/^v?(\d+)\./.exec(value)?.[1]);
      if (Number.isSafeInteger(major)) facts.nodeMajor = major;
    } else if (name === 'arch' && /^[\w-]+$/.test(value)) facts.arch = value;
    else if (name === 'npm' && /^[\w.+-]+$/.test(value)) facts.npmVersion = value;
    else if (name === 'zstd') facts.zstd = value === 'yes';
    else if (name === 'lockfile' || name === 'config') {
      const file = /^(\S+) ([0-9a-f]{64})$/.exec(value);
      if (!file) continue;
      if (name === 'lockfile') facts.lockfile = { name: file[1]!, sha256: file[2]! };
      else facts.configFiles[file[1]!] = file[2]!;
    } else if (name === 'installed' && /^[0-9a-f]{64}$/.test(value)) facts.installedKey = value;
    else if (name === 'saving' && /^[1-9]\d{0,9}$/.test(value)) facts.savingPid = Number(value);
  }
  return facts;
}
