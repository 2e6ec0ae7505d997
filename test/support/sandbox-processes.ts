/**
 * Which processes of the real process table belong to which sandbox of a local sandbox host,
 * read from what the host leaves visible whatever launcher it uses:
 * - a launcher's process names its sandbox on its command line: the sandbox directory
 *   (`.../sandboxes/<id>/root`, unshare's and bwrap's binds) or bwrap's `--hostname sandbox-<id>`;
 * - what such a process starts is the sandbox's (daemons stay below it: they cannot leave a pid
 *   namespace), and so is every process in the same pid namespace (`nsenter`'s children);
 * - a helper between the host and a sandbox process (`nsenter`) belongs to that sandbox too.
 * Only processes below the host's own process count: other hosts on the machine are not ours.
 */
import { descendantsOf, type ProcessEntry } from './process-table.ts';
import type { ListedSandbox } from './sandbox-host-listing.ts';

export interface SandboxProcess {
  /** The sandbox's bare id (the SDK's id without the host's client suffix). */
  sandboxId: string;
  pid: number;
  commandLine: string;
}

export interface SandboxProcessReport {
  /** Processes of sandboxes the host says are gone: each one is a leak. */
  leftBehind: SandboxProcess[];
  /** Processes in a nested pid namespace below the host that no sandbox can be named for. */
  unattributed: Omit<SandboxProcess, 'sandboxId'>[];
  /** Sandboxes the host lists as live of which the process table shows nothing: we cannot see them. */
  invisible: string[];
  /** The processes found for each live sandbox (bare id). */
  seen: Record<string, number[]>;
}

const DIRECTORY_MARKER = /\/sandboxes\/([0-9a-z]+)\/root(?=[/\s]|$)/;
const HOSTNAME_MARKER = /--hostname sandbox-([0-9a-z]+)/;

/** The bare id in `<sandboxId>-<clientId>`. */
export function bareSandboxId(sandboxId: string): string {
  return sandboxId.split('-')[0]!;
}

export function attributeSandboxProcesses(table: readonly ProcessEntry[], hostPid: number, live: readonly ListedSandbox[]): SandboxProcessReport {
  const byPid = new Map(table.map((entry) => [entry.pid, entry]));
  const host = byPid.get(hostPid);
  if (!host) throw new Error(`the sandbox host's process ${hostPid} is not in the process table`);
  const below = descendantsOf(table, hostPid);
  const owner = new Map<number, string>();

  const markerOf = (entry: ProcessEntry): string | undefined => {
    for (const sandbox of live) {
      if ((sandbox.rootDir && entry.commandLine.includes(sandbox.rootDir)) || entry.commandLine.includes(`sandbox-${bareSandboxId(sandbox.sandboxId)}`)) return bareSandboxId(sandbox.sandboxId);
    }
    return DIRECTORY_MARKER.exec(entry.commandLine)?.[1] ?? HOSTNAME_MARKER.exec(entry.commandLine)?.[1];
  };
  const ownerOf = (pid: number, seen = new Set<number>()): string | undefined => {
    if (owner.has(pid)) return owner.get(pid);
    const entry = byPid.get(pid);
    if (!entry || !below.has(pid) || seen.has(pid)) return undefined;
    seen.add(pid);
    const found = markerOf(entry) ?? ownerOf(entry.ppid, seen);
    if (found) owner.set(pid, found);
    return found;
  };
  for (const pid of below) ownerOf(pid);

  // Same pid namespace as a process of the sandbox (and not the host's): the sandbox's.
  const namespaceOwner = new Map<string, string>();
  for (const [pid, sandboxId] of owner) {
    const namespace = byPid.get(pid)?.pidNamespace;
    if (namespace && namespace !== host.pidNamespace) namespaceOwner.set(namespace, sandboxId);
  }
  for (const pid of below) {
    const namespace = byPid.get(pid)?.pidNamespace;
    if (!owner.has(pid) && namespace && namespaceOwner.has(namespace)) owner.set(pid, namespaceOwner.get(namespace)!);
  }
  // Helpers between the host and a sandbox's process (nsenter) are the sandbox's.
  for (const [pid, sandboxId] of [...owner]) {
    for (let parent = byPid.get(pid)?.ppid; parent !== undefined && parent !== hostPid && below.has(parent); parent = byPid.get(parent)?.ppid) {
      if (!owner.has(parent)) owner.set(parent, sandboxId);
    }
  }

  const alive = (pid: number) => byPid.get(pid)?.state !== 'Z';
  const liveIds = new Set(live.map((sandbox) => bareSandboxId(sandbox.sandboxId)));
  const describe = (pid: number) => ({ pid, commandLine: byPid.get(pid)!.commandLine });
  const seen: Record<string, number[]> = Object.fromEntries([...liveIds].map((id) => [id, [] as number[]]));
  for (const [pid, sandboxId] of owner) if (alive(pid) && liveIds.has(sandboxId)) seen[sandboxId]!.push(pid);
  return {
    leftBehind: [...owner].filter(([pid, sandboxId]) => alive(pid) && !liveIds.has(sandboxId)).map(([pid, sandboxId]) => ({ sandboxId, ...describe(pid) })),
    unattributed: [...below].filter((pid) => alive(pid) && !owner.has(pid) && byPid.get(pid)!.pidNamespaceDepth > host.pidNamespaceDepth).map(describe),
    invisible: [...liveIds].filter((id) => seen[id]!.length === 0),
    seen,
  };
}
