/**
 * What the sandbox can tell about an app that failed, read with ONE command: the tails of the
 * app's stdout and stderr logs (merged in time order by their capture timestamps) or of a step's
 * log, and the memory cgroup's OOM count and limit (cgroup v2 names first, then v1's).
 */
import type { SandboxHandle } from '../sandbox/sandbox-provider.ts';
import { APP_STDERR_LOG, APP_STDOUT_LOG } from './app-layout.ts';
import { splitCapturedTimestamp } from './logs/timestamp-lines.ts';
import { shellQuote } from '../shell-quote.ts';

export interface MemoryState {
  /** Processes the kernel killed for going past the sandbox's memory limit. */
  oomKills: number;
  limitBytes?: number;
}

export interface AppDiagnostics {
  /** The logs' last lines, timestamps removed, oldest first. */
  output: string;
  memory: MemoryState;
}

const TAIL_BYTES = 64 * 1024;
const SECTION = '@@coderunner-section';
/** Memory counters inside the sandbox: cgroup v2 at the root of its cgroup namespace, or v1's memory controller. */
const MEMORY_EVENTS = ['/sys/fs/cgroup/memory.events', '/sys/fs/cgroup/memory/memory.oom_control'];
const MEMORY_LIMITS = ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes'];
/** v1 reports "no limit" as a huge page-aligned number. */
const UNLIMITED_BYTES = 2 ** 60;

export function diagnosticsScript(logPaths: readonly string[]): string {
  const section = (name: string) => `echo ${shellQuote(`${SECTION} ${name}`)}`;
  return [
    ...logPaths.flatMap((path) => [section(`log ${path}`), `tail -c ${TAIL_BYTES} -- ${shellQuote(path)} 2>/dev/null`, 'echo']),
    section('memory-events'),
    `cat ${MEMORY_EVENTS.map(shellQuote).join(' ')} 2>/dev/null`,
    section('memory-limit'),
    `cat ${MEMORY_LIMITS.map(shellQuote).join(' ')} 2>/dev/null`,
    'exit 0',
  ].join('\n');
}

/** The app's own output (or the given logs') and the memory state, in one command. */
export async function readDiagnostics(
  sandbox: SandboxHandle,
  logPaths: readonly string[] = [APP_STDOUT_LOG, APP_STDERR_LOG],
): Promise<AppDiagnostics> {
  const result = await sandbox.run(diagnosticsScript(logPaths), { timeoutMs: 10_000 }).catch(() => undefined);
  return result ? parseDiagnostics(result.stdout) : { output: '', memory: { oomKills: 0 } };
}

export function parseDiagnostics(stdout: string): AppDiagnostics {
  const sections = new Map<string, string>();
  let current: string | undefined;
  const lines: string[] = [];
  const flush = () => {
    if (current !== undefined) sections.set(current, lines.join('\n'));
    lines.length = 0;
  };
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${SECTION} `)) {
      flush();
      current = line.slice(SECTION.length + 1);
    } else {
      lines.push(line);
    }
  }
  flush();
  const logs = [...sections].filter(([name]) => name.startsWith('log ')).map(([, text]) => text);
  return { output: mergeCaptured(logs), memory: parseMemory(sections.get('memory-events') ?? '', sections.get('memory-limit') ?? '') };
}

/** Lines of several captured logs in time order (stable for equal times), prefixes removed. */
export function mergeCaptured(logs: readonly string[]): string {
  const entries: { timestamp: string; order: number; text: string }[] = [];
  let order = 0;
  for (const log of logs) {
    let last = '';
    for (const line of log.split('\n')) {
      if (!line) continue;
      const captured = splitCapturedTimestamp(line);
      // A line without our prefix (written before capture started) sorts with the line before it.
      if (captured) last = captured.timestamp;
      entries.push({ timestamp: captured?.timestamp ?? last, order: order++, text: captured?.text ?? line });
    }
  }
  entries.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.order - b.order));
  return entries.map((entry) => entry.text).join('\n');
}

function parseMemory(events: string, limits: string): MemoryState {
  const oomKills = [...events.matchAll(/^oom_kill (\d+)$/gm)].reduce((sum, match) => sum + Number(match[1]), 0);
  const limit = limits
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^\d+$/.test(line))
    .map(Number)
    .find((bytes) => bytes > 0 && bytes < UNLIMITED_BYTES);
  return limit ? { oomKills, limitBytes: limit } : { oomKills };
}
