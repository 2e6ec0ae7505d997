/**
 * Machine-wide leases of what a sandbox holds outside its directory: its host uid, its cgroups and
 * its loop disk. A lease file is written (create-exclusive, which is what claims the uid) BEFORE
 * any of it exists, and removed after all of it is gone, so a host that crashed at any point
 * leaves a lease that names exactly what to reap. Any later host reaps leases whose owner is dead.
 * Each sandbox gets its own uid: RLIMIT_NPROC then counts that sandbox alone, and its files are
 * no one else's.
 */
import { randomInt } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { SandboxCgroups } from './cgroup-v1.ts';

/** The host's machine-wide runtime directory: others may pass through it (to staged trees), not list it. */
export const RUN_DIR = '/run/coderunner';
export const LEASE_DIR = `${RUN_DIR}/sandbox-leases`;
/** Sandbox uids (and gids) are UID_BASE + [0, UID_POOL): far above any real account or subuid range. */
export const UID_BASE = 2_000_000_000;
export const UID_POOL = 1_000_000;

export interface SandboxLease {
  uid: number;
  sandboxId: string;
  rootDir: string;
  /** The host process that holds the lease; its start time tells a reused pid apart. */
  owner: { pid: number; startTime: string };
  cgroups: SandboxCgroups;
  disk?: { image: string; mountPoint: string };
  /** Where its trees are bind-mounted for bwrap. */
  stage?: string;
}

export class SandboxLeases {
  readonly #dir: string;

  constructor(dir = LEASE_DIR) {
    this.#dir = dir;
  }

  async claim(fields: Omit<SandboxLease, 'uid' | 'owner'>): Promise<SandboxLease> {
    await mkdir(dirname(this.#dir), { recursive: true, mode: 0o711 });
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 100; attempt++) {
      const lease: SandboxLease = { uid: UID_BASE + randomInt(UID_POOL), owner: ownIdentity(), ...fields };
      try {
        await writeFile(this.#file(lease.uid), JSON.stringify(lease), { flag: 'wx', mode: 0o600 });
        return lease;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    throw new Error(`no free sandbox uid in ${UID_BASE}..${UID_BASE + UID_POOL - 1}`);
  }

  async release(lease: SandboxLease): Promise<void> {
    await rm(this.#file(lease.uid), { force: true });
  }

  async list(): Promise<SandboxLease[]> {
    const names = await readdir(this.#dir).catch(() => [] as string[]);
    const leases: SandboxLease[] = [];
    for (const name of names.filter((candidate) => /^\d+\.json$/.test(candidate))) {
      const text = await readFile(join(this.#dir, name), 'utf8').catch(() => '');
      try {
        leases.push(JSON.parse(text) as SandboxLease);
      } catch {
        // A lease cut short by a crash while being written: it names nothing yet.
        await rm(join(this.#dir, name), { force: true });
      }
    }
    return leases;
  }

  /** Replaces a lease atomically (a crash leaves the old or the new one). */
  async update(lease: SandboxLease): Promise<void> {
    const temporary = `${this.#file(lease.uid)}.${process.pid}.tmp`;
    await writeFile(temporary, JSON.stringify(lease), { mode: 0o600 });
    await rename(temporary, this.#file(lease.uid));
  }

  #file(uid: number): string {
    return join(this.#dir, `${uid}.json`);
  }
}

export function isOwnerAlive(lease: SandboxLease): boolean {
  return processStartTime(lease.owner.pid) === lease.owner.startTime;
}

export function ownIdentity(): SandboxLease['owner'] {
  return { pid: process.pid, startTime: processStartTime(process.pid) ?? '' };
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
