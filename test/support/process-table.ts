/**
 * The machine's real process table, read from /proc: every process with its parent, state,
 * command line and pid namespace. Reading fails loudly (ProcessTableUnreadableError) when /proc
 * cannot be read, does not show this process, or hides other users' processes (hidepid), so a
 * check built on it never passes for not seeing.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** One letter, as in /proc/<pid>/stat: R, S, D, Z (zombie), ... */
  state: string;
  /** Arguments joined by spaces (empty for kernel threads). */
  commandLine: string;
  /** `pid:[4026531836]`, or undefined when the kernel does not let us read it. */
  pidNamespace?: string;
  /** How many pid namespaces deep it is, seen from the root (1: the machine's own). */
  pidNamespaceDepth: number;
}

export class ProcessTableUnreadableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProcessTableUnreadableError';
  }
}

export interface ReadProcessTableOptions {
  /** Where procfs is mounted (default /proc). */
  procDir?: string;
}

export async function readProcessTable(options: ReadProcessTableOptions = {}): Promise<ProcessEntry[]> {
  const procDir = options.procDir ?? '/proc';
  let names: string[];
  try {
    names = await readdir(procDir);
  } catch (error) {
    throw new ProcessTableUnreadableError(`cannot read the process table at ${procDir}: ${(error as Error).message}`, { cause: error });
  }
  await assertOthersVisible(procDir);
  const entries = (await Promise.all(names.filter((name) => /^\d+$/.test(name)).map((name) => readEntry(procDir, Number(name))))).filter(
    (entry): entry is ProcessEntry => entry !== undefined,
  );
  if (!entries.some((entry) => entry.pid === process.pid)) {
    throw new ProcessTableUnreadableError(`the process table at ${procDir} does not show this process (${process.pid}): it is not this machine's /proc`);
  }
  return entries;
}

/** A process that exited while being read is left out; one we cannot read at all is an error. */
async function readEntry(procDir: string, pid: number): Promise<ProcessEntry | undefined> {
  const stat = await readFile(`${procDir}/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name in parentheses may itself contain spaces and parentheses.
  const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const commandLine = (await readFile(`${procDir}/${pid}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim();
  const status = await readFile(`${procDir}/${pid}/status`, 'utf8').catch(() => '');
  const nsPids = /^NSpid:\s*(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/) ?? [String(pid)];
  const pidNamespace = await readlink(`${procDir}/${pid}/ns/pid`).catch(() => undefined);
  return { pid, ppid: Number(ppid), state: state ?? '?', commandLine, pidNamespaceDepth: nsPids.length, ...(pidNamespace ? { pidNamespace } : {}) };
}

/** With hidepid, other users' processes (a sandbox's own uid) would silently not be there. */
async function assertOthersVisible(procDir: string): Promise<void> {
  if (process.getuid?.() === 0) return;
  const mounts = await readFile(`${procDir}/self/mountinfo`, 'utf8').catch(() => '');
  const procMount = mounts.split('\n').find((line) => line.split(' ')[4] === procDir);
  if (procMount && /hidepid=(?:[12]|invisible|noaccess)/.test(procMount)) {
    throw new ProcessTableUnreadableError(`${procDir} is mounted with hidepid: the processes of other users (sandboxes) are hidden from this one`);
  }
}

/** The processes below `pid` (its children, their children, ...). */
export function descendantsOf(table: readonly ProcessEntry[], pid: number): Set<number> {
  const children = new Map<number, number[]>();
  for (const entry of table) children.set(entry.ppid, [...(children.get(entry.ppid) ?? []), entry.pid]);
  const found = new Set<number>();
  const pending = [...(children.get(pid) ?? [])];
  while (pending.length > 0) {
    const next = pending.pop()!;
    if (found.has(next)) continue;
    found.add(next);
    pending.push(...(children.get(next) ?? []));
  }
  return found;
}
