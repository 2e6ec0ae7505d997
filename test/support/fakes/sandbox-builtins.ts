/**
 * What a sandbox answers to the product's own scripts, computed from the fake sandbox's state
 * the way the real commands compute it from the real one:
 * - the diagnostics script (app-output.ts): the tails of the logs it names, the memory cgroup's
 *   events (cgroup v2 format) and limit;
 * - the listening-ports script (listening-ports.ts): /proc/net/tcp rows and socket holders for
 *   every port a live process listens on;
 * - the log collection script (log-sources.ts): one block per log file of the layout it names;
 * - the redeploy's "empty the app directory except node_modules";
 * - the dependency probe (dependency-probe.ts): the toolchain, the lockfile's and config files'
 *   SHA-256, the key node_modules is marked with, a save still running, package.json; and the
 *   stop of that save (a kill of its process group).
 * Anything else is not a built-in (the sandbox answers exit 0 and no output).
 */
import { LISTENING_PORTS_SCRIPT } from '../../../functions/shared/deployments/listening-ports.ts';
import { LINE_MARKER, SOURCE_HEADER } from '../../../functions/shared/deployments/logs/log-sources.ts';
import { APP_STDERR_LOG, APP_STDOUT_LOG, BUILD_LOG, INSTALL_LOG } from '../../../functions/shared/deployments/app-layout.ts';
import type { CommandResult } from '../../../functions/shared/sandbox/sandbox-provider.ts';
import { APP_DIR } from '../../../functions/shared/deployments/app-layout.ts';
import { DEPENDENCIES_MARKER, INSTALL_CONFIG_FILES, SAVE_SIGNATURE } from '../../../functions/shared/deployments/dependency-cache/dependency-probe.ts';
import { createHash } from 'node:crypto';
import type { FakeSandbox } from './fake-sandbox.ts';

const DIAGNOSTICS_SECTION = '@@coderunner-section';
const STOP_PROCESS_GROUP = /^kill -TERM -- -(\d+) 2>\/dev\/null; true$/;
/** The probe's lockfile loop names the candidates. */
const DEPENDENCY_PROBE = /echo "node=\$\(node --version[\s\S]*?for cr_f in ((?:'[^']+' ?)+); do if \[ -f "\$cr_f" \]; then echo "lockfile=/;
const TAIL_BYTES = 64 * 1024;
const CLEAR_APP_DIR = /find (\S+) -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf \{\} \+/;
const LOG_FILES: readonly { kind: string; path: string }[] = [
  { kind: 'install', path: INSTALL_LOG },
  { kind: 'build', path: BUILD_LOG },
  { kind: 'app', path: APP_STDOUT_LOG },
  { kind: 'app-error', path: APP_STDERR_LOG },
];

export function builtinAnswer(sandbox: FakeSandbox, command: string): CommandResult | undefined {
  if (command === LISTENING_PORTS_SCRIPT) return ok(listeningPorts(sandbox));
  if (command.includes(`echo '${DIAGNOSTICS_SECTION} `)) return ok(diagnostics(sandbox, command));
  if (command.includes(`CR_HEADER='${SOURCE_HEADER}'`)) return ok(logBlocks(sandbox, command));
  const probe = DEPENDENCY_PROBE.exec(command);
  if (probe) return ok(dependencyProbe(sandbox, [...probe[1]!.matchAll(/'([^']+)'/g)].map((match) => match[1]!)));
  const stop = STOP_PROCESS_GROUP.exec(command);
  if (stop) {
    sandbox.processes.get(Number(stop[1]))?.exit();
    return ok('');
  }
  const clear = CLEAR_APP_DIR.exec(command);
  if (clear) {
    clearDirectory(sandbox, clear[1]!);
    return ok('');
  }
  return undefined;
}

function ok(stdout: string): CommandResult {
  return { exitCode: 0, stdout, stderr: '' };
}

function diagnostics(sandbox: FakeSandbox, script: string): string {
  const sections = [...script.matchAll(new RegExp(`echo '${DIAGNOSTICS_SECTION} ([^']+)'`, 'g'))].map((match) => match[1]!);
  return sections
    .map((section) => {
      if (section.startsWith('log ')) {
        const text = sandbox.readText(section.slice(4)) ?? '';
        return `${DIAGNOSTICS_SECTION} ${section}\n${text.slice(-TAIL_BYTES)}\n`;
      }
      if (section === 'memory-events') {
        const { oomKills } = sandbox.memory;
        return `${DIAGNOSTICS_SECTION} ${section}\nlow 0\nhigh 0\nmax ${oomKills}\noom ${oomKills}\noom_kill ${oomKills}\n`;
      }
      if (section === 'memory-limit') return `${DIAGNOSTICS_SECTION} ${section}\n${sandbox.memory.limitBytes ?? 'max'}\n`;
      return `${DIAGNOSTICS_SECTION} ${section}\n`;
    })
    .join('');
}

/** `L <local address> <inode>` per listening socket, `S /proc/<pid>/fd socket:[<inode>]` per holder. */
function listeningPorts(sandbox: FakeSandbox): string {
  const lines: string[] = [];
  let inode = 40_000;
  for (const process of sandbox.processes.values()) {
    for (const [port, listener] of process.listening) {
      inode += 1;
      lines.push(`L ${hexAddress(listener.address)}:${port.toString(16).toUpperCase().padStart(4, '0')} ${inode}`);
      lines.push(`S /proc/${process.pid}/fd socket:[${inode}]`);
    }
  }
  return lines.map((line) => `${line}\n`).join('');
}

/** IPv4 in /proc/net/tcp's little-endian hex; IPv6 any or loopback as 32 hex digits. */
function hexAddress(address: string): string {
  if (address === '::') return '0'.repeat(32);
  if (address === '::1') return `${'0'.repeat(24)}01000000`;
  return address
    .split('.')
    .map((part) => Number(part).toString(16).toUpperCase().padStart(2, '0'))
    .reverse()
    .join('');
}

function logBlocks(sandbox: FakeSandbox, script: string): string {
  return LOG_FILES.filter(({ path }) => script.includes(path))
    .flatMap(({ kind, path }) => {
      const file = sandbox.files.get(path);
      if (!file) return [];
      const mtime = (file.modifiedAt.getTime() / 1000).toFixed(3);
      const lines = new TextDecoder().decode(file.content).split('\n').filter(Boolean);
      return [`${SOURCE_HEADER} ${kind} ${mtime} ${path}`, ...lines.map((line) => `${LINE_MARKER}${line}`)];
    })
    .map((line) => `${line}\n`)
    .join('');
}

function clearDirectory(sandbox: FakeSandbox, dir: string): void {
  for (const path of sandbox.filesUnder(dir)) {
    if (!path.startsWith(`${dir}/node_modules/`)) sandbox.deleteFile(path);
  }
}

function dependencyProbe(sandbox: FakeSandbox, lockfiles: readonly string[]): string {
  const { node, arch, npm, zstd } = sandbox.toolchain;
  const file = (name: string) => sandbox.files.get(`${APP_DIR}/${name}`)?.content;
  const sha = (content: Uint8Array) => createHash('sha256').update(content).digest('hex');
  const lines = [`node=${node}`, `arch=${arch}`, ...(npm ? [`npm=${npm}`] : []), ...(zstd ? ['zstd=yes'] : [])];
  const lockfile = lockfiles.find((name) => file(name));
  if (lockfile) lines.push(`lockfile=${lockfile} ${sha(file(lockfile)!)}`);
  for (const name of INSTALL_CONFIG_FILES) if (file(name)) lines.push(`config=${name} ${sha(file(name)!)}`);
  const marker = file(DEPENDENCIES_MARKER);
  if (marker) lines.push(`installed=${new TextDecoder().decode(marker).slice(0, 64)}`);
  const saving = [...sandbox.processes.values()].find((process) => process.command.includes(SAVE_SIGNATURE));
  if (saving) lines.push(`saving=${saving.pid}`);
  const manifest = file('package.json');
  if (manifest) lines.push('@@coderunner-package.json', new TextDecoder().decode(manifest));
  return `${lines.join('\n')}\n`;
}
