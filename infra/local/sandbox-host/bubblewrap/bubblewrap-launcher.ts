/**
 * The default launcher: each sandbox is one bwrap invocation whose only command is the trusted
 * agent (see agent/sandbox-agent.ts), in namespaces of its own, as a host uid of its own, with
 * seccomp, cgroup limits, a loop-disk quota and rlimits; its only way out is the egress proxy.
 * What this machine cannot provide is said by prepare(), never skipped silently; without
 * bubblewrap or user namespaces it refuses to start.
 */
import { spawn } from 'node:child_process';
import { chown, chmod, mkdir, readdir, readFile, rmdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { findHostTool, HOST_TOOL_ENV, hostTool, runHostTool } from '../host-tools.ts';
import type { CreateRuntimeOptions, ProcessLauncher, ProtectionReport, SandboxRuntime } from '../process-launcher.ts';
import { prepareAgentBundle, type AgentBundle } from './agent-bundle.ts';
import { AgentChannel } from './agent-channel.ts';
import { BubblewrapRuntime } from './bubblewrap-runtime.ts';
import { AGENT_COMMAND, bwrapArguments, visibleBwrapArguments } from './bwrap-arguments.ts';
import { cgroupProcsFiles, createSandboxCgroups, detectCgroupsV1, removeSandboxCgroups, sandboxCgroupPaths, type CgroupParents, type SandboxCgroups } from './cgroup-v1.ts';
import { DEFAULT_EGRESS_ALLOW_LIST, EgressProxy } from './egress-proxy.ts';
import { LAUNCH_EXIT_CODES, LAUNCH_FDS, launchCommand } from './launch-script.ts';
import { createLoopDisk, loopDiskUnavailable, removeLoopDiskImage, unmount } from './loop-disk.ts';
import { isOwnerAlive, RUN_DIR, SandboxLeases, UID_BASE, UID_POOL, type SandboxLease } from './sandbox-leases.ts';
import { buildSeccompFilter, DENIED_SYSCALL_NAMES, seccompSupported } from './seccomp-filter.ts';

const DIAGNOSTICS_BYTES = 4096;
/** A uid outside the lease pool, only for the start-up check that user namespaces work. */
const PROBE_UID = UID_BASE + UID_POOL;
/** Without root the process cap is RLIMIT_NPROC over all of the host user's processes: the current count plus this budget. */
const NON_ROOT_PROCESS_BUDGET = 256;

export class IsolationUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IsolationUnavailableError';
  }
}

export interface BubblewrapLauncherOptions {
  /** `host:port` pairs a sandbox may reach through the egress proxy. Default: the npm registry. */
  egressAllowList?: readonly string[];
  /** How long a sandbox's agent may take to come up. */
  startTimeoutMs?: number;
  /** Where machine-wide leases live (tests may use their own). */
  leaseDir?: string;
}

interface Machine {
  root: boolean;
  bundle: AgentBundle;
  cgroups: CgroupParents;
  loopDisk: boolean;
  seccomp: Buffer | undefined;
  /** The host may lower an OOM score (CAP_SYS_RESOURCE): the agent gets -1000. */
  oomProtection: boolean;
}

export class BubblewrapLauncher implements ProcessLauncher {
  readonly name = 'bubblewrap';
  readonly egress: EgressProxy;
  readonly #startTimeoutMs: number;
  readonly #leases: SandboxLeases;
  #machine: Promise<Machine> | undefined;
  #report: ProtectionReport | undefined;

  constructor(options: BubblewrapLauncherOptions = {}) {
    this.egress = new EgressProxy(options.egressAllowList ?? DEFAULT_EGRESS_ALLOW_LIST);
    this.#startTimeoutMs = options.startTimeoutMs ?? 15_000;
    this.#leases = new SandboxLeases(options.leaseDir);
  }

  async prepare(): Promise<ProtectionReport> {
    await this.#prepareMachine();
    await this.#reapDeadLeases(() => true);
    return this.#report!;
  }

  async createRuntime({ sandboxId, rootDir, limits }: CreateRuntimeOptions): Promise<SandboxRuntime> {
    const machine = await this.#prepareMachine();
    const cgroups = sandboxCgroupPaths(machine.cgroups, sandboxId);
    const disk = machine.loopDisk ? { image: join(dirname(rootDir), 'disk.img'), mountPoint: rootDir } : undefined;
    // bwrap runs as the sandbox's uid, which may not walk through the state directory: as root the
    // trees are bind-mounted where it can (a root-owned directory that others may only search).
    const stage = machine.root ? join(STAGE_DIR, sandboxId) : undefined;
    // Named before any of it exists, so a crash at any point below leaves something to reap.
    const lease = machine.root ? await this.#leases.claim({ sandboxId, rootDir, cgroups, ...(disk ? { disk } : {}), ...(stage ? { stage } : {}) }) : undefined;
    let pid1: number | undefined;
    const release = () => this.#release(lease, cgroups, disk, stage, pid1);
    try {
      await Promise.all([
        createSandboxCgroups(cgroups, limits),
        (async () => {
          if (disk) await createLoopDisk(disk.image, disk.mountPoint, limits.diskBytes);
          await prepareTrees(rootDir, lease?.uid);
          if (stage) await stageTrees(rootDir, stage);
        })(),
      ]);
      const processLimit = machine.root ? limits.processes : (await countUserTasks(process.getuid!())) + NON_ROOT_PROCESS_BUDGET;
      const { command, args } = launchCommand({
        uid: lease?.uid,
        processLimit,
        fileSizeBytes: limits.fileSizeBytes,
        cgroupProcs: cgroupProcsFiles(cgroups),
        protectFromOom: machine.oomProtection,
        bwrapArgs: visibleBwrapArguments({ sandboxId, rootDir: stage ?? rootDir }),
        command: AGENT_COMMAND,
      });
      const bwrap = spawn(command, args, {
        cwd: '/',
        env: HOST_TOOL_ENV,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe', 'pipe', 'pipe'],
        detached: true,
        serialization: 'json',
      });
      bwrap.on('error', () => {});
      const diagnostics = tail(bwrap.stdout!, bwrap.stderr!);
      const channel = new AgentChannel(bwrap);
      const input = bwrapArguments({
        bundle: machine.bundle,
        cgroups,
        fds: { info: LAUNCH_FDS.info, ...(machine.seccomp ? { seccomp: LAUNCH_FDS.seccomp } : {}) },
      });
      const stdio = bwrap.stdio as unknown as (Writable & NodeJS.ReadableStream)[];
      endWith(stdio[LAUNCH_FDS.args]!, Buffer.from(input.map((arg) => `${arg}\0`).join('')));
      endWith(stdio[LAUNCH_FDS.seccomp]!, machine.seccomp ?? Buffer.alloc(0));
      readInfo(stdio[LAUNCH_FDS.info]!, (childPid) => (pid1 = childPid));
      try {
        await channel.whenReady(this.#startTimeoutMs);
      } catch (error) {
        bwrap.kill('SIGKILL');
        await new Promise((resolve) => (bwrap.exitCode !== null || bwrap.signalCode !== null ? resolve(undefined) : bwrap.once('exit', resolve)));
        const launchFailure = LAUNCH_EXIT_CODES[bwrap.exitCode ?? -1];
        throw new Error(`sandbox did not start: ${launchFailure ?? (error as Error).message}${diagnostics() ? `; ${diagnostics()}` : ''}`);
      }
      return new BubblewrapRuntime({ bwrap, channel, egress: this.egress, release, diagnostics });
    } catch (error) {
      await release().catch(() => {});
      throw error;
    }
  }

  async reapLeftovers(rootDir: string): Promise<void> {
    await this.#reapDeadLeases((lease) => lease.rootDir === rootDir);
  }

  async #reapDeadLeases(matches: (lease: SandboxLease) => boolean): Promise<void> {
    if (process.getuid?.() !== 0) return;
    for (const lease of await this.#leases.list()) {
      if (!matches(lease) || isOwnerAlive(lease)) continue;
      await this.#release(lease, lease.cgroups, lease.disk, lease.stage, undefined).catch((error: unknown) =>
        console.error(`[sandbox-host] could not reap sandbox ${lease.sandboxId} of a crashed host:`, error),
      );
    }
  }

  /** After the namespace is gone: cgroups (killing any straggler), the staged trees, the disk, then the uid. */
  async #release(lease: SandboxLease | undefined, cgroups: SandboxCgroups, disk: SandboxLease['disk'], stage: string | undefined, pid1: number | undefined): Promise<void> {
    if (Object.keys(cgroups).length > 0) await removeSandboxCgroups(cgroups);
    else if (pid1) await waitUntilGone(pid1);
    await unmount([...(stage ? [stage] : []), ...(disk ? [disk.mountPoint] : [])]);
    if (stage) await rmdir(stage).catch(() => {});
    if (disk) await removeLoopDiskImage(disk.image);
    if (lease) await this.#leases.release(lease);
  }

  #prepareMachine(): Promise<Machine> {
    this.#machine ??= this.#detect();
    return this.#machine;
  }

  async #detect(): Promise<Machine> {
    const root = process.getuid?.() === 0;
    if (!findHostTool('bwrap')) {
      throw new IsolationUnavailableError('bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install -y bubblewrap); the unsafe alternative is isolation "namespaces"');
    }
    if (root && !findHostTool('setpriv')) throw new IsolationUnavailableError("util-linux's setpriv is needed to run sandboxes under their own uid");
    await probeUserNamespaces(root);
    const cgroups = await detectCgroupsV1();
    const loopDiskMissing = loopDiskUnavailable();
    const seccomp = seccompSupported() ? buildSeccompFilter() : undefined;
    const bundle = await prepareAgentBundle();
    const oomProtection = await hasCapability(CAP_SYS_RESOURCE);
    const enabled = [
      'namespaces: user, pid, ipc, uts, network (own loopback only, no route out), cgroup',
      root
        ? `identity: a host uid of its own per sandbox (${UID_BASE}+), no capabilities, no new privileges, no nested user namespaces`
        : 'identity: no capabilities, no new privileges, no nested user namespaces',
      'filesystem: /usr and a few /etc files read-only, a synthetic /etc, its own /proc and /dev; writable: only /home/user and /tmp',
      `egress: only through the allow-listing proxy (${this.egress.allowList.join(', ') || 'nothing allowed'})`,
      'file size: RLIMIT_FSIZE',
      ...(root ? ['processes: RLIMIT_NPROC of its own uid'] : []),
      ...(seccomp ? [`seccomp: ${DENIED_SYSCALL_NAMES.length} system calls refused (ptrace, mount, unshare, setns, bpf, keyctl, io_uring, ...)`] : []),
      ...Object.keys(cgroups.parents).map((controller) => `${controller} cgroup`),
      ...(loopDiskMissing ? [] : ['disk: a loop-mounted ext4 image per sandbox']),
      ...(oomProtection ? ['OOM: the agent has oom_score_adj -1000, commands +500'] : []),
    ];
    const disabled = [
      ...(root ? [] : [
        `identity: sandboxes run as the host user (uid ${process.getuid?.()}), not as a uid of their own (needs root); the agent is not shielded from the tenant`,
        `processes: RLIMIT_NPROC counts all of the host user's processes (current + ${NON_ROOT_PROCESS_BUDGET})`,
      ]),
      ...(seccomp ? [] : [`seccomp: no filter for ${process.arch} (x64 only)`]),
      ...cgroups.unavailable,
      ...(loopDiskMissing ? [`disk: no quota (${loopDiskMissing}); /home/user and /tmp are plain directories`] : []),
      ...(oomProtection ? [] : ['OOM: the agent cannot get oom_score_adj -1000 (the host lacks CAP_SYS_RESOURCE); commands run at +500, so the memory cgroup kills them first'])
    ];
    this.#report = { launcher: this.name, enabled, disabled };
    return { root, bundle, cgroups: cgroups.parents, loopDisk: !loopDiskMissing, seccomp, oomProtection };
  }
}

const STAGE_DIR = `${RUN_DIR}/sandbox-trees`;

async function stageTrees(rootDir: string, stage: string): Promise<void> {
  await mkdir(STAGE_DIR, { recursive: true, mode: 0o711 });
  for (const dir of [RUN_DIR, STAGE_DIR]) await chmod(dir, 0o711);
  await mkdir(stage, { mode: 0o711 });
  await runHostTool('mount', ['--bind', rootDir, stage]);
}

/** The sandbox's writable trees, owned by its uid (inside: `user`). */
async function prepareTrees(rootDir: string, uid: number | undefined): Promise<void> {
  const home = join(rootDir, 'home', 'user');
  const tmp = join(rootDir, 'tmp');
  await mkdir(home, { recursive: true });
  await mkdir(tmp, { recursive: true });
  await chmod(tmp, 0o1777);
  if (uid === undefined) return;
  await chown(home, uid, uid);
  await chown(tmp, uid, uid);
}

async function probeUserNamespaces(root: boolean): Promise<void> {
  const bwrapArgs = ['--unshare-user', '--unshare-net', '--unshare-pid', '--ro-bind', '/usr', '/usr', '--symlink', 'usr/bin', '/bin', '--symlink', 'usr/lib', '/lib', '--symlink', 'usr/lib64', '/lib64', '--proc', '/proc', '--', '/bin/true'];
  const [command, args] = root
    ? [hostTool('setpriv'), [`--reuid=${PROBE_UID}`, `--regid=${PROBE_UID}`, '--clear-groups', '--', hostTool('bwrap'), ...bwrapArgs]]
    : [hostTool('bwrap'), bwrapArgs];
  const failure = await new Promise<string | undefined>((resolve) => {
    const probe = spawn(command, args, { env: HOST_TOOL_ENV, stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
    let stderr = '';
    probe.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-1000)));
    probe.once('error', (error) => resolve(error.message));
    probe.once('close', (code) => resolve(code === 0 ? undefined : stderr.trim() || `exit code ${code}`));
  });
  if (failure) {
    throw new IsolationUnavailableError(`bubblewrap cannot create user namespaces here (${failure}); enable unprivileged user namespaces, or choose the unsafe isolation "namespaces"`);
  }
}

function endWith(stream: Writable, content: Buffer): void {
  stream.on('error', () => {});
  stream.end(content);
}

/** bwrap's --info-fd: `{"child-pid": N}`, the host pid of the sandbox's pid 1. */
function readInfo(stream: NodeJS.ReadableStream, onPid: (pid: number) => void): void {
  let text = '';
  stream.on('error', () => {});
  stream.on('data', (chunk: Buffer) => {
    if (text.length > DIAGNOSTICS_BYTES) return;
    text += chunk.toString();
    const pid = Number(/"child-pid"\s*:\s*(\d+)/.exec(text)?.[1]);
    if (pid > 0) onPid(pid);
  });
}

/** Keeps the last bytes of bwrap's and the agent's output (bounded: the sandbox may write there). */
function tail(...streams: NodeJS.ReadableStream[]): () => string {
  let kept = '';
  for (const stream of streams) {
    stream.on('data', (chunk: Buffer) => (kept = (kept + chunk.toString()).slice(-DIAGNOSTICS_BYTES)));
    stream.on('error', () => {});
  }
  return () => kept.trim();
}

/** Tasks (threads count, as for RLIMIT_NPROC) of a user on this machine. */
async function countUserTasks(uid: number): Promise<number> {
  let count = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '');
    if (new RegExp(`^Uid:\\s+${uid}\\s`, 'm').test(status)) count += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
  }
  return count;
}

const CAP_SYS_RESOURCE = 24;

async function hasCapability(capability: number): Promise<boolean> {
  const status = await readFile('/proc/self/status', 'utf8');
  const effective = BigInt(`0x${/^CapEff:\s+([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  return (effective & (1n << BigInt(capability))) !== 0n;
}

async function waitUntilGone(pid: number): Promise<void> {
  for (let attempt = 0; attempt < 400; attempt++) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    if (!stat || stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) return;
    await sleep(5);
  }
}
