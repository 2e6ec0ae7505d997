/**
 * UNSAFE, kept as an explicit option (`isolation: 'namespaces'`) for comparison: sandboxes run as
 * host root, share the host's network and have no resource limits. Use BubblewrapLauncher.
 *
 * Runs each sandbox in its own pid and mount namespace (util-linux `unshare`/`nsenter`):
 * - every process of the sandbox lives in one pid namespace, so ending its init process ends
 *   them all, daemons included (setsid, double fork and nohup escape a process-group kill, not a
 *   pid namespace);
 * - `setpriv --pdeathsig KILL` ties the namespace to the host: if the host dies, so does it;
 * - `/home/user` and `/tmp` inside are bind mounts of the sandbox's own directories, so paths
 *   match the cloud's.
 * The network is the host's: apps of two sandboxes cannot use the same port at once. A later
 * launcher with a network namespace per sandbox lifts that.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { findHostTool, HOST_TOOL_ENV, hostTool } from './host-tools.ts';
import type {
  CreateRuntimeOptions,
  ProcessLauncher,
  ProtectionReport,
  SandboxChild,
  SandboxRuntime,
  SpawnOptions,
} from './process-launcher.ts';
import { HostMappedFiles, type SandboxFiles } from './sandbox-files.ts';

const INIT_PID_FILE = 'init.pid';
const READY_LINE = 'coderunner-sandbox-ready';
/** Inside the namespace: private /home and /tmp, then an init that reaps orphans until killed. */
const INIT_SCRIPT = `
set -e
mount -t tmpfs -o mode=755 coderunner-home /home
mkdir -p /home/user
mount --bind "$1/home/user" /home/user
mount --bind "$1/tmp" /tmp
echo ${READY_LINE}
exec /bin/bash -c 'trap "" TERM INT HUP; while :; do sleep 3600 & wait $!; done'
`;
/**
 * Inside the namespaces: nothing of the host's env stays, the command's env comes NUL-separated on
 * fd 3 (never on a command line, where \`ps\` shows it), then the daemon's shell runs it.
 */
const ENTER_SCRIPT = `
cd -- "$1" || exit 1
for name in $(compgen -e); do unset "$name"; done
while IFS= read -r -d '' pair; do export -- "$pair"; done <&3
exec 3<&-
exec /bin/bash -l -c "$2"
`;

export interface NamespaceLauncherOptions {
  /** How long to wait for a sandbox's namespace to come up. */
  startTimeoutMs?: number;
}

export class NamespaceLauncher implements ProcessLauncher {
  readonly name = 'namespaces';
  readonly #startTimeoutMs: number;

  constructor(options: NamespaceLauncherOptions = {}) {
    this.#startTimeoutMs = options.startTimeoutMs ?? 5_000;
  }

  async prepare(): Promise<ProtectionReport> {
    for (const tool of ['setpriv', 'unshare', 'nsenter'] as const) {
      if (!findHostTool(tool)) throw new Error(`the namespace launcher needs util-linux's ${tool}`);
    }
    return {
      launcher: this.name,
      enabled: ['pid and mount namespaces', 'a clean environment'],
      disabled: [
        `identity: sandboxes run as ${isRoot() ? 'host root with every capability' : 'the host user'} (no user namespace of their own, no seccomp)`,
        'network: the host network is shared (host loopback services and other sandboxes are reachable; two apps cannot use the same port)',
        'filesystem: the host filesystem is visible and writable (only /home/user and /tmp are private)',
        'limits: no memory, process, CPU or disk limits',
      ],
    };
  }

  async createRuntime({ rootDir }: CreateRuntimeOptions): Promise<SandboxRuntime> {
    await mkdir(join(rootDir, 'home', 'user'), { recursive: true });
    await mkdir(join(rootDir, 'tmp'), { recursive: true, mode: 0o1777 });
    const holder = spawn(
      hostTool('setpriv'),
      ['--pdeathsig', 'KILL', hostTool('unshare'), ...userNamespaceArgs(), '--pid', '--fork', '--kill-child', '--mount',
        '--propagation', 'private', '--mount-proc', '/bin/sh', '-c', INIT_SCRIPT, 'coderunner-init', rootDir],
      { env: HOST_TOOL_ENV, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await waitForReady(holder, this.#startTimeoutMs);
      const initPid = await findChildPid(holder.pid!, this.#startTimeoutMs);
      await writeFile(join(rootDir, '..', INIT_PID_FILE), `${holder.pid}\n`);
      return new NamespaceRuntime(holder, initPid, rootDir);
    } catch (error) {
      holder.kill('SIGKILL');
      throw error;
    }
  }

  async reapLeftovers(rootDir: string): Promise<void> {
    const pidText = await readFile(join(rootDir, '..', INIT_PID_FILE), 'utf8').catch(() => '');
    const pid = Number.parseInt(pidText, 10);
    if (!pid) return;
    // Only kill the pid if it is still our holder for this directory (pids get reused).
    const commandLine = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.includes(rootDir)) killQuietly(pid, 'SIGKILL');
  }
}

class NamespaceRuntime implements SandboxRuntime {
  readonly files: SandboxFiles;
  readonly baseEnv = {};
  readonly #holder: ChildProcess;
  readonly #initPid: number;

  constructor(holder: ChildProcess, initPid: number, rootDir: string) {
    this.#holder = holder;
    this.#initPid = initPid;
    this.files = new HostMappedFiles(rootDir);
  }

  async spawn(command: string, { cwd, env, stdin }: SpawnOptions): Promise<SandboxChild> {
    const child = spawn(
      hostTool('nsenter'),
      // nsenter's --wd resolves the directory before entering the mount namespace: cd inside.
      ['--target', String(this.#initPid), ...userNamespaceEnterArgs(), '--pid', '--mount', '--',
        '/bin/bash', '--norc', '--noprofile', '-c', ENTER_SCRIPT, 'coderunner-enter', cwd, command],
      { env: HOST_TOOL_ENV, detached: true, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    if (!child.pid) throw new Error('the process could not be started');
    const envPipe = child.stdio[3] as NodeJS.WritableStream;
    envPipe.on('error', () => {});
    envPipe.end(Object.entries(env).map(([name, value]) => `${name}=${value}\0`).join(''));
    return new HostChild(child);
  }

  connectPort(port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  onEnded(): void {
    // The holder only ends when destroy() kills it or the host dies.
  }

  async destroy(): Promise<void> {
    if (this.#holder.exitCode !== null || this.#holder.signalCode !== null) return;
    const exited = new Promise((resolve) => this.#holder.once('exit', resolve));
    // SIGKILL to unshare: --kill-child kills the namespace's init, and the kernel then kills
    // every other process of the namespace.
    this.#holder.kill('SIGKILL');
    await exited;
    await waitUntilGone(this.#initPid);
  }
}

/** A command run through nsenter: its host pid, and signals to its process group. */
class HostChild implements SandboxChild {
  readonly pid: number;
  readonly stdout;
  readonly stderr;
  readonly #child: ChildProcess;

  constructor(child: ChildProcess) {
    this.#child = child;
    this.pid = child.pid!;
    this.stdout = child.stdout!;
    this.stderr = child.stderr!;
    child.stdin?.on('error', () => {});
  }

  writeStdin(data: Buffer): void {
    this.#child.stdin?.write(data);
  }

  closeStdin(): void {
    this.#child.stdin?.end();
  }

  signal(signal: NodeJS.Signals): void {
    killQuietly(-this.pid, signal);
  }

  once(event: 'exit', listener: (code: number | null, signal: NodeJS.Signals | null) => void): this {
    this.#child.once(event, listener);
    return this;
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** Without root, a user namespace maps us to root inside so mounts and pid namespaces work. */
function userNamespaceArgs(): string[] {
  return isRoot() ? [] : ['--user', '--map-root-user'];
}

function userNamespaceEnterArgs(): string[] {
  return isRoot() ? [] : ['--user', '--preserve-credentials'];
}

function waitForReady(holder: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => fail(new Error(`sandbox namespace did not start within ${timeoutMs} ms`)), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    holder.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes(READY_LINE)) {
        clearTimeout(timer);
        resolve();
      }
    });
    holder.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    holder.once('error', fail);
    holder.once('exit', (code) =>
      fail(new Error(`sandbox namespace exited with ${code} (unshare needs root or user namespaces): ${stderr.trim()}`)),
    );
  });
}

async function findChildPid(parentPid: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const children = await readFile(`/proc/${parentPid}/task/${parentPid}/children`, 'utf8').catch(() => '');
    const pid = Number.parseInt(children.trim().split(/\s+/)[0] ?? '', 10);
    if (pid) return pid;
    await sleep(5);
  }
  throw new Error('sandbox namespace init process not found');
}

async function waitUntilGone(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Gone, or a zombie: a dead process that only waits for its parent to reap it.
    if (!stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return;
    await sleep(5);
  }
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}
