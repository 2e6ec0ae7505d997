/**
 * The lines of a command's output that name why it failed. The last lines alone often miss the
 * one that matters (npm prints its debug-log notice after `Cannot find module`; a traceback
 * ends with its cause but starts with where), so lines that look like causes are kept wherever
 * they are, with the last lines for context, within a size bound.
 */

/** Lines that usually name a cause, in the words the tools print. */
const CAUSE_PATTERNS: readonly RegExp[] = [
  /\berror\b/i,
  /\bERR!/,
  /\bnot found\b/i,
  /cannot find module/i,
  /\bE[A-Z]{3,}\b/, // EADDRINUSE, ENOENT, ETARGET, ENOSPC, EACCES...
  /^Traceback \(most recent call last\)/,
  /^\w*(Error|Exception|Warning):/,
  /\bexception\b/i,
  /\bfatal\b/i,
  /\bpanic\b/i,
  /\bkilled\b/i,
  /no such file or directory/i,
  /permission denied/i,
  /externally-managed-environment/,
  /could not find/i,
  /\bfailed\b/i,
  /\bdenied\b/i,
  /\bBlocked request\b/,
];

/**
 * Where the error is in the app's own code (not Node's internals, not a dependency): a stack
 * frame, Node's `file:line` header above the source line and its caret, a Python traceback entry.
 */
const APP_FRAME = /^\s*at (?:.+ \()?(?:file:\/\/)?\/(?!\S*node_modules)\S+:\d+:\d+\)?$/;
const NODE_ERROR_HEADER = /^(?:file:\/\/)?\/(?!\S*node_modules)\S+:\d+$/;
const PYTHON_APP_FRAME = /^\s*File "\/(?![^"]*(?:site-packages|\/lib\/python))[^"]+", line \d+/;
const CARET_LINE = /^\s*\^+\s*$/;

/** Noise, never shown even at the end: it matches the patterns or fills the tail but never names a cause. */
const NOISE_PATTERNS: readonly RegExp[] = [
  /A complete log of this run can be found in/,
  /^npm (ERR!|error) *$/,
  /^npm (notice|warn) /i,
  /^\s*at .+\(.+:\d+:\d+\)$/, // a stack frame (the app's own are kept before this applies)
  /^\s*at [\w.<>]+ \((?:node:|<anonymous>)/,
  /^\s*at (?:node:|\/\S*node_modules)/,
  /deprecated/i,
];

export interface CauseLinesOptions {
  /** Context lines always kept from the end. */
  lastLines?: number;
  /** At most this many lines in all. */
  maxLines?: number;
  /** At most this many characters in all (the recorded message has a size limit). */
  maxChars?: number;
}

const DEFAULTS: Required<CauseLinesOptions> = { lastLines: 8, maxLines: 30, maxChars: 3_000 };
const MAX_LINE_CHARS = 400;

/** Output lines that name the cause, in their order, then the last lines; `…` marks a gap. */
export function causeLines(output: string, options: CauseLinesOptions = {}): string[] {
  const { lastLines, maxLines, maxChars } = { ...DEFAULTS, ...options };
  const lines = output
    .replace(/\r\n?/g, '\n')
    // Colour codes are noise in a recorded message.
    .replace(/\u001b\[[0-9;]*[A-Za-z]/g, '')
    .split('\n')
    .map((line) => (line.length > MAX_LINE_CHARS ? `${line.slice(0, MAX_LINE_CHARS)}…` : line.trimEnd()));
  while (lines.length > 0 && lines.at(-1) === '') lines.pop();

  const shown = lines.map((line, index) => index).filter((index) => !isNoise(lines[index]!));
  const tailStart = shown.at(-lastLines) ?? 0;
  const keep = new Set<number>();
  for (const index of shown) {
    const line = lines[index]!;
    if (index >= tailStart || isCause(line)) keep.add(index);
    // Node's header is followed by the source line and a caret under the failing expression.
    if (NODE_ERROR_HEADER.test(line) && CARET_LINE.test(lines[index + 2] ?? '')) {
      keep.add(index + 1);
      keep.add(index + 2);
    }
  }
  // Budget: the tail first, then causes from the end backwards (the last error is the closest).
  const chosen: number[] = [];
  let chars = 0;
  const ordered = [...keep].sort((a, b) => b - a);
  const tail = ordered.filter((index) => index >= tailStart);
  const causes = ordered.filter((index) => index < tailStart);
  for (const index of [...tail, ...causes]) {
    const size = lines[index]!.length + 1;
    if (chosen.length >= maxLines || chars + size > maxChars) break;
    chosen.push(index);
    chars += size;
  }
  chosen.sort((a, b) => a - b);
  const result: string[] = [];
  chosen.forEach((index, position) => {
    const previous = chosen[position - 1];
    if ((previous === undefined && index > 0) || (previous !== undefined && index > previous + 1)) result.push('…');
    result.push(lines[index]!);
  });
  return dropRepeats(result);
}

function isAppLocation(line: string): boolean {
  return APP_FRAME.test(line) || NODE_ERROR_HEADER.test(line) || PYTHON_APP_FRAME.test(line);
}

function isNoise(line: string): boolean {
  return !isAppLocation(line) && NOISE_PATTERNS.some((pattern) => pattern.test(line));
}

function isCause(line: string): boolean {
  if (!line.trim()) return false;
  return isAppLocation(line) || CAUSE_PATTERNS.some((pattern) => pattern.test(line));
}

/** The same line many times (a crash loop) is shown once. */
function dropRepeats(lines: string[]): string[] {
  return lines.filter((line, index) => line === '…' || line !== lines[index - 1]);
}
