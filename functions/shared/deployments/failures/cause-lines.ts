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

/** Noise that matches the patterns but never names a cause. */
const NOISE_PATTERNS: readonly RegExp[] = [
  /A complete log of this run can be found in/,
  /^npm (ERR!|error) *$/,
  /^npm (notice|warn) /i,
  /^\s*at .+\(.+:\d+:\d+\)$/, // a stack frame: the line above it names the error
  /^\s*at [\w.<>]+ \(node:/,
  /^\s*at node:/,
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

  const tailStart = Math.max(0, lines.length - lastLines);
  const keep = new Set<number>();
  lines.forEach((line, index) => {
    if (index >= tailStart) keep.add(index);
    else if (isCause(line)) keep.add(index);
  });
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

function isCause(line: string): boolean {
  if (!line.trim() || NOISE_PATTERNS.some((pattern) => pattern.test(line))) return false;
  return CAUSE_PATTERNS.some((pattern) => pattern.test(line));
}

/** The same line many times (a crash loop) is shown once. */
function dropRepeats(lines: string[]): string[] {
  return lines.filter((line, index) => line === '…' || line !== lines[index - 1]);
}
