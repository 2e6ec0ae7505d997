/**
 * Per-sandbox cgroups on a cgroup v1 hierarchy (the memory, pids and cpu controllers), created
 * beneath the host's own cgroup of each controller (`<host cgroup>/coderunner/<sandboxId>`), so
 * whatever limits the host itself runs under still hold above them.
 * - memory: memory.limit_in_bytes (and memsw where swap accounting exists): past it the kernel
 *   OOM-kills the largest process of that sandbox, never one of the host's; memory.oom_control
 *   counts the kills (`oom_kill N`), which the sandbox can read at /sys/fs/cgroup/memory;
 * - pids: pids.max, processes and threads at once (a fork bomb stops at the cap);
 * - cpu: cpu.cfs_quota_us per cpu.cfs_period_us.
 * A sandbox joins them before anything of it runs (the launch script writes its own pid to each
 * cgroup.procs), and every process it forks stays in them.
 */
import { readFile, mkdir, rmdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SandboxLimits } from '../sandbox-limits.ts';

export type CgroupController = 'memory' | 'pids' | 'cpu';
const CONTROLLERS: CgroupController[] = ['memory', 'pids', 'cpu'];
const CFS_PERIOD_US = 100_000;

/** Where each controller's sandbox cgroups go (`<mount><host cgroup>/coderunner`), for those available. */
export type CgroupParents = Partial<Record<CgroupController, string>>;

/** The cgroup directories of one sandbox. */
export type SandboxCgroups = Partial<Record<CgroupController, string>>;

export interface CgroupDetection {
  parents: CgroupParents;
  /** Why a controller is not used, one line each. */
  unavailable: string[];
}

/** Finds the v1 controllers this host may create child cgroups in (root only). */
export async function detectCgroupsV1(): Promise<CgroupDetection> {
  const unavailable: string[] = [];
  if (process.getuid?.() !== 0) {
    return { parents: {}, unavailable: CONTROLLERS.map((controller) => `${controller} cgroup: needs root`) };
  }
  const mounts = parseCgroupMounts(await readFile('/proc/self/mountinfo', 'utf8'));
  const ownPaths = parseOwnCgroups(await readFile('/proc/self/cgroup', 'utf8'));
  const parents: CgroupParents = {};
  for (const controller of CONTROLLERS) {
    const mount = mounts.get(controller);
    const own = ownPaths.get(controller);
    if (!mount || own === undefined) {
      const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers');
      unavailable.push(`${controller} cgroup: no cgroup v1 ${controller} controller${v2 ? ' (pure cgroup v2 is not supported by this launcher yet)' : ''}`);
      continue;
    }
    const relative = own.startsWith(mount.root) ? own.slice(mount.root.length) : own;
    const parent = join(mount.mountPoint, relative, 'coderunner');
    try {
      await mkdir(parent, { recursive: true });
      parents[controller] = parent;
    } catch (error) {
      unavailable.push(`${controller} cgroup: cannot create ${parent}: ${(error as Error).message}`);
    }
  }
  return { parents, unavailable };
}

/** The cgroup directories a sandbox would get (named before creating them, for the crash lease). */
export function sandboxCgroupPaths(parents: CgroupParents, sandboxId: string): SandboxCgroups {
  return Object.fromEntries(Object.entries(parents).map(([controller, parent]) => [controller, join(parent, sandboxId)]));
}

export async function createSandboxCgroups(cgroups: SandboxCgroups, limits: SandboxLimits): Promise<void> {
  if (cgroups.memory) {
    await mkdir(cgroups.memory);
    await writeFile(join(cgroups.memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    // Without swap accounting this file does not exist; with it, no swapping past the limit.
    await writeFile(join(cgroups.memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes)).catch(() => {});
    await writeFile(join(cgroups.memory, 'memory.swappiness'), '0').catch(() => {});
  }
  if (cgroups.pids) {
    await mkdir(cgroups.pids);
    await writeFile(join(cgroups.pids, 'pids.max'), String(limits.processes));
  }
  if (cgroups.cpu) {
    await mkdir(cgroups.cpu);
    await writeFile(join(cgroups.cpu, 'cpu.cfs_period_us'), String(CFS_PERIOD_US));
    await writeFile(join(cgroups.cpu, 'cpu.cfs_quota_us'), String(Math.round(limits.cpus * CFS_PERIOD_US)));
  }
}

/** The files a process writes its pid to, to join the sandbox's cgroups. */
export function cgroupProcsFiles(cgroups: SandboxCgroups): string[] {
  return Object.values(cgroups).map((dir) => join(dir, 'cgroup.procs'));
}

/** Host pids of every process in the sandbox's cgroups. */
export async function cgroupPids(cgroups: SandboxCgroups): Promise<number[]> {
  const pids = new Set<number>();
  for (const dir of Object.values(cgroups)) {
    const text = await readFile(join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const line of text.split('\n')) if (line) pids.add(Number(line));
  }
  return [...pids];
}

/**
 * Kills whatever is still in the sandbox's cgroups, then removes them. Ending the pid namespace
 * normally leaves nothing; this is the backstop (and what reaps a crashed host's leftovers).
 */
export async function removeSandboxCgroups(cgroups: SandboxCgroups, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await cgroupPids(cgroups);
    if (pids.length === 0) break;
    for (const pid of pids) killQuietly(pid);
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(', ')} survived SIGKILL in ${Object.values(cgroups).join(', ')}`);
    await sleep(5);
  }
  for (const dir of Object.values(cgroups)) await removeEmptyCgroup(dir, deadline);
}

async function removeEmptyCgroup(dir: string, deadline: number): Promise<void> {
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      // EBUSY while the kernel still tears the last tasks down.
      if (code !== 'EBUSY' || Date.now() > deadline) throw error;
      await sleep(5);
    }
  }
}

interface CgroupMount {
  mountPoint: string;
  root: string;
}

function parseCgroupMounts(mountinfo: string): Map<string, CgroupMount> {
  const mounts = new Map<string, CgroupMount>();
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const [fsType, , superOptions = ''] = right.split(' ');
    if (fsType !== 'cgroup') continue;
    const fields = left.split(' ');
    const mount = { root: fields[3]!, mountPoint: fields[4]! };
    for (const option of superOptions.split(',')) if (CONTROLLERS.includes(option as CgroupController)) mounts.set(option, mount);
  }
  return mounts;
}

function parseOwnCgroups(cgroupFile: string): Map<string, string> {
  const paths = new Map<string, string>();
  for (const line of cgroupFile.split('\n')) {
    const match = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    for (const controller of match[1]!.split(',')) paths.set(controller, match[2]!);
  }
  return paths;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
