/**
 * Turns the collection script's output (see log-sources.ts) into log entries: one timestamp per
 * line, all sources merged in time order (stable: equal times keep script order, then file
 * order), `since` applied, the last `lines` kept.
 */
import type { LogEntry, TimestampSource } from './log-entry.ts';
import { LINE_MARKER, LOG_SOURCE_KINDS, SOURCE_HEADER, type LogSourceKind } from './log-sources.ts';
import { npmLogStartTime, parseLeadingTimestamp } from './log-timestamps.ts';
import { splitCapturedTimestamp } from './timestamp-lines.ts';

export interface ParseLogOptions {
  /** How many lines to keep, the newest. */
  lines: number;
  /** Keep only lines at or after this time. */
  since?: Date;
}

interface Block {
  kind: LogSourceKind;
  /** The file's mtime (now, for the journal): the last resort for lines without a time. */
  mtimeMs: number;
  label: string;
  lines: string[];
}

/** A line with the time found for it, if any. */
interface ReadLine {
  text: string;
  timeMs?: number;
  timestampSource?: TimestampSource;
}

interface TimedEntry {
  timeMs: number;
  source: string;
  line: string;
  timestampSource: TimestampSource;
}

/** Sources whose files we write through timestamp-lines.ts. */
const CAPTURED_KINDS: ReadonlySet<LogSourceKind> = new Set(['install', 'build', 'app', 'app-error']);
const HEADER = /^(\S+) (\S+) (.*)$/;
/** ANSI escape sequences (colours, cursor moves) and any ESC left alone. */
const ANSI_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b/g;

export function parseLogOutput(output: string, options: ParseLogOptions): LogEntry[] {
  const entries = splitBlocks(output).flatMap(blockEntries);
  return selectEntries(entries, options).map(({ timeMs, ...entry }) => ({ timestamp: new Date(timeMs).toISOString(), ...entry }));
}

/** Headers and their marked lines; anything else (a malformed header and its lines) is dropped. */
function splitBlocks(output: string): Block[] {
  const blocks: Block[] = [];
  let current: Block | undefined;
  for (const line of output.split('\n')) {
    if (line.startsWith(`${SOURCE_HEADER} `)) {
      current = parseHeader(line.slice(SOURCE_HEADER.length + 1));
      if (current) blocks.push(current);
    } else if (line.startsWith(LINE_MARKER) && current) {
      current.lines.push(line.slice(LINE_MARKER.length));
    }
  }
  return blocks;
}

function parseHeader(text: string): Block | undefined {
  const match = HEADER.exec(text);
  if (!match) return undefined;
  const [, kind, mtime, label] = match;
  const mtimeMs = Math.round(Number(mtime) * 1000);
  if (!isSourceKind(kind!) || !Number.isFinite(mtimeMs)) return undefined;
  return { kind, mtimeMs, label: label!, lines: [] };
}

function isSourceKind(kind: string): kind is LogSourceKind {
  return (LOG_SOURCE_KINDS as readonly string[]).includes(kind);
}

function blockEntries(block: Block): TimedEntry[] {
  const source = block.kind === 'file' ? `file:${block.label}` : block.kind;
  const lines = block.lines.map(cleanLine).filter((text) => !isJournalMarker(block.kind, text)).map((text) => readLine(block, text));
  return fillMissingTimes(lines, block.mtimeMs).map((line) => ({ source, ...line }));
}

/**
 * What a terminal would show: colour codes removed, and of a line a progress bar rewrote with
 * CR, the last state (a CRLF line ending is just removed).
 */
function cleanLine(raw: string): string {
  const segments = raw.replace(ANSI_SEQUENCE, '').split('\r');
  return segments.findLast((segment) => segment !== '') ?? '';
}

/** journalctl's own lines: `-- No entries --`, `-- Boot 1a2b... --`. */
function isJournalMarker(kind: LogSourceKind, text: string): boolean {
  return kind === 'journal' && text.startsWith('-- ');
}

function readLine(block: Block, text: string): ReadLine {
  if (CAPTURED_KINDS.has(block.kind)) {
    const captured = splitCapturedTimestamp(text);
    if (captured) return { text: captured.text, timeMs: Date.parse(captured.timestamp), timestampSource: 'line' };
  }
  if (block.kind === 'npm') {
    // npm's lines carry a sequence number, not a time: all get the run's start from the file name.
    const started = npmLogStartTime(block.label);
    if (started !== undefined) return { text, timeMs: started, timestampSource: 'file-name' };
  }
  const timeMs = parseLeadingTimestamp(text);
  return timeMs === undefined ? { text } : { text, timeMs, timestampSource: 'line' };
}

/**
 * A line without a time takes the one of the line before it (a stack trace line belongs to its
 * entry), or, at the top of the window, the first one after it; a file without any gets its mtime.
 */
function fillMissingTimes(lines: ReadLine[], mtimeMs: number): Omit<TimedEntry, 'source'>[] {
  const firstTimed = lines.find((line) => line.timeMs !== undefined);
  if (!firstTimed) return lines.map((line) => ({ timeMs: mtimeMs, line: line.text, timestampSource: 'file-mtime' }));
  let previous = firstTimed.timeMs!;
  return lines.map((line) => {
    if (line.timeMs === undefined) return { timeMs: previous, line: line.text, timestampSource: 'nearby-line' };
    previous = line.timeMs;
    return { timeMs: line.timeMs, line: line.text, timestampSource: line.timestampSource! };
  });
}

/** Time order (Array.prototype.sort is stable), then `since`, then the newest `lines`. */
function selectEntries(entries: TimedEntry[], options: ParseLogOptions): TimedEntry[] {
  const sinceMs = options.since?.getTime() ?? Number.NEGATIVE_INFINITY;
  const sorted = entries.filter((entry) => entry.timeMs >= sinceMs).sort((a, b) => a.timeMs - b.timeMs);
  return sorted.slice(Math.max(0, sorted.length - options.lines));
}
