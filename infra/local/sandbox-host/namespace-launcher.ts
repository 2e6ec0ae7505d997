/**
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
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CreateRuntimeOptions, ProcessLauncher, SandboxRuntime, SpawnOptions } from './process-launcher.ts';

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
const MINIMAL_ENV = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

export interface NamespaceLauncherOptions {
  /** How long to wait for a sandbox's namespace to come up. */
  startTimeoutMs?: number;
}

export class NamespaceLauncher implements ProcessLauncher {
  readonly name = 'pid+mount namespaces (unshare/nsenter)';
  readonly #startTimeoutMs: number;

  constructor(options: NamespaceLauncherOptions = {}) {
    this.#startTimeoutMs = options.startTimeoutMs ?? 5_000;
  }

  async createRuntime({ rootDir }: CreateRuntimeOptions): Promise<SandboxRuntime> {
    await mkdir(join(rootDir, 'home', 'user'), { recursive: true });
    await mkdir(join(rootDir, 'tmp'), { recursive: true, mode: 0o1777 });
    const holder = spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', 'unshare', ...userNamespaceArgs(), '--pid', '--fork', '--kill-child', '--mount',
        '--propagation', 'private', '--mount-proc', '/bin/sh', '-c', INIT_SCRIPT, 'coderunner-init', rootDir],
      { env: MINIMAL_ENV, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      await waitForReady(holder, this.#startTimeoutMs);
      const initPid = await findChildPid(holder.pid!, this.#startTimeoutMs);
      await writeFile(join(rootDir, '..', INIT_PID_FILE), `${holder.pid}\n`);
      return new NamespaceRuntime(holder, initPid);
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
  readonly #holder: ChildProcess;
  readonly #initPid: number;

  constructor(holder: ChildProcess, initPid: number) {
    this.#holder = holder;
    this.#initPid = initPid;
  }

  spawn(command: string, { cwd, env, stdin }: SpawnOptions): ChildProcess {
    return spawn(
      'nsenter',
      // nsenter's --wd resolves the directory before entering the mount namespace: cd inside.
      ['--target', String(this.#initPid), ...userNamespaceEnterArgs(), '--pid', '--mount', '--',
        '/bin/sh', '-c', 'cd -- "$0" && exec /bin/bash -l -c "$1"', cwd, command],
      { env, detached: true, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] },
    );
  }

  connectPort(port: number): Socket {
    return connect({ host: '127.0.0.1', port });
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
