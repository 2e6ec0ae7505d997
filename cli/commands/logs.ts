/**
 * `coderunner logs <id> [-n lines] [--since ts] [-f]`: the deployment's recent log lines (app,
 * install, npm...), oldest first. `-f` keeps polling with `since` = the last timestamp seen and
 * prints what is new, until Ctrl-C or until the deployment's sandbox is gone.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError } from '../api-client.ts';
import type { LogEntry } from '../api-types.ts';
import { printJson, type CommandContext } from '../context.ts';
import type { Colors } from '../format.ts';
import { watchInterrupt } from '../interrupt.ts';

export const FOLLOW_INTERVAL_MS = 1_000;
/** The API's maximum: a follow poll asks for everything new. */
const FOLLOW_LINES = 1_000;

export interface LogsOptions {
  lines?: number;
  since?: string;
  follow?: boolean;
  npmDebug?: boolean;
  json?: boolean;
}

export async function logs(deploymentId: string, options: LogsOptions, context: CommandContext): Promise<number> {
  const client = await context.client();
  const answer = await client.logs(deploymentId, {
    ...(options.lines !== undefined ? { lines: options.lines } : {}),
    ...(options.since ? { since: options.since } : {}),
    ...(options.npmDebug ? { npmDebug: true } : {}),
  });
  const first = answer.lines;
  if (answer.saved) {
    context.stderr.write(
      `${context.err.dim(`deployment ${deploymentId} is ${answer.saved.endedAs}: these are its logs as saved at ${answer.saved.savedAt}, before its sandbox was killed`)}\n`,
    );
  }
  if (!options.follow || answer.saved) {
    if (options.json) printJson(context, answer);
    else printLogLines(context.stdout, context.out, first);
    return 0;
  }

  // Following: one JSON object per line with --json.
  const print = (entries: LogEntry[]) => {
    if (options.json) for (const entry of entries) context.stdout.write(`${JSON.stringify(entry)}\n`);
    else printLogLines(context.stdout, context.out, entries);
  };
  print(first);
  const seen = new SeenAtLastTimestamp();
  seen.add(first);
  const undated = new SeenUndatedLines();
  undated.filterNew(first);
  const interrupt = watchInterrupt();
  try {
    while (!interrupt.signal.aborted) {
      await sleep(FOLLOW_INTERVAL_MS, undefined, { signal: interrupt.signal }).catch(() => undefined);
      if (interrupt.signal.aborted) break;
      let entries: LogEntry[];
      try {
        const since = seen.since ?? options.since;
        const next = await client.logs(deploymentId, { lines: FOLLOW_LINES, ...(since ? { since } : {}), ...(options.npmDebug ? { npmDebug: true } : {}) });
        // Ended while we followed: what is left was saved; the live lines were all printed.
        if (next.saved) {
          context.stderr.write(`deployment ${deploymentId} is ${next.saved.endedAs}: no more logs.\n`);
          return 0;
        }
        entries = next.lines;
      } catch (error) {
        if (error instanceof ApiError && error.status === 409) {
          const view = await client.getDeployment(deploymentId).catch(() => undefined);
          context.stderr.write(`deployment ${deploymentId} is ${view?.status ?? 'over'}: no more logs.\n`);
          return 0;
        }
        if (error instanceof ApiError && error.transient) continue;
        throw error;
      }
      if (interrupt.signal.aborted) break;
      const fresh = undated.filterNew(seen.filterNew(entries));
      print(fresh);
      seen.add(fresh);
    }
    return 0;
  } finally {
    interrupt.dispose();
  }
}

/**
 * `since` is inclusive, so the lines at the last timestamp come back on the next poll; they are
 * printed once.
 */
class SeenAtLastTimestamp {
  since: string | undefined;
  /** How many times each line was printed at `since` (the same line may repeat). */
  #counts = new Map<string, number>();

  add(entries: LogEntry[]): void {
    for (const entry of entries) {
      if (this.since === undefined || entry.timestamp > this.since) {
        this.since = entry.timestamp;
        this.#counts.clear();
      }
      if (entry.timestamp === this.since) this.#counts.set(keyOf(entry), (this.#counts.get(keyOf(entry)) ?? 0) + 1);
    }
  }

  filterNew(entries: LogEntry[]): LogEntry[] {
    const printed = new Map(this.#counts);
    return entries.filter((entry) => {
      if (this.since === undefined || entry.timestamp > this.since) return true;
      if (entry.timestamp < this.since) return false;
      const left = printed.get(keyOf(entry)) ?? 0;
      if (left === 0) return true;
      printed.set(keyOf(entry), left - 1);
      return false;
    });
  }
}

/**
 * Lines of a file that carries no time of its own are all stamped with the file's modification
 * time, which moves forward whenever the file grows: by timestamp they would all look new on the
 * next poll. They are recognised by their source, text and how many times that text came before.
 */
class SeenUndatedLines {
  static readonly MAX_REMEMBERED = 20_000;
  readonly #printed = new Map<string, number>();

  /** The entries not printed before; the undated ones among them are remembered. */
  filterNew(entries: LogEntry[]): LogEntry[] {
    const counts = new Map<string, number>();
    return entries.filter((entry) => {
      if (entry.timestampSource !== 'file-mtime') return true;
      const key = keyOf(entry);
      const occurrence = (counts.get(key) ?? 0) + 1;
      counts.set(key, occurrence);
      if (occurrence <= (this.#printed.get(key) ?? 0)) return false;
      this.#printed.delete(key);
      this.#printed.set(key, occurrence);
      if (this.#printed.size > SeenUndatedLines.MAX_REMEMBERED) this.#printed.delete(this.#printed.keys().next().value!);
      return true;
    });
  }
}

function keyOf(entry: LogEntry): string {
  return `${entry.source}\u0000${entry.line}`;
}

const SOURCE_WIDTH = 9;

export function printLogLines(stream: NodeJS.WritableStream, colors: Colors, entries: LogEntry[], prefix = ''): void {
  for (const entry of entries) {
    const source = entry.source.padEnd(SOURCE_WIDTH);
    const painted = entry.source === 'app-error' ? colors.red(source) : entry.source === 'app' ? colors.cyan(source) : colors.magenta(source);
    stream.write(`${prefix}${colors.dim(entry.timestamp)} ${painted} ${entry.line}\n`);
  }
}
