/**
 * A benchmark's headline: its key figures on one machine-readable line, `BENCH {json}`, printed
 * after its human-readable output. `npm run bench` reads these lines from each script's output.
 */

export const HEADLINE_PREFIX = 'BENCH ';

/** Figure name → value (a ratio, a count, a size); null when the run could not measure it. */
export type Figures = Record<string, number | null>;

export interface Headline {
  bench: string;
  figures: Figures;
}

export function formatHeadline(bench: string, figures: Figures): string {
  const rounded = Object.fromEntries(Object.entries(figures).map(([name, value]) => [name, value === null || !Number.isFinite(value) ? null : round(value)]));
  return `${HEADLINE_PREFIX}${JSON.stringify({ bench, figures: rounded })}`;
}

export function printHeadline(bench: string, figures: Figures, write: (line: string) => void = console.log): void {
  write(formatHeadline(bench, figures));
}

export class HeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeadlineError';
  }
}

/** Every headline in a script's output, in order; a malformed `BENCH` line is an error, other lines are ignored. */
export function parseHeadlines(output: string): Headline[] {
  const headlines: Headline[] = [];
  for (const line of output.split(/\r?\n/)) {
    if (!line.startsWith(HEADLINE_PREFIX)) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line.slice(HEADLINE_PREFIX.length));
    } catch {
      throw new HeadlineError(`not JSON after "${HEADLINE_PREFIX.trim()}": ${line}`);
    }
    headlines.push(asHeadline(parsed, line));
  }
  return headlines;
}

function asHeadline(value: unknown, line: string): Headline {
  const candidate = value as Partial<Headline> | null;
  if (!candidate || typeof candidate !== 'object' || typeof candidate.bench !== 'string' || !candidate.figures || typeof candidate.figures !== 'object' || Array.isArray(candidate.figures)) {
    throw new HeadlineError(`a headline needs {"bench": string, "figures": {...}}: ${line}`);
  }
  for (const [name, figure] of Object.entries(candidate.figures)) {
    if (figure !== null && typeof figure !== 'number') throw new HeadlineError(`figure ${name} is not a number: ${line}`);
  }
  return { bench: candidate.bench, figures: candidate.figures as Figures };
}

/** Four significant digits: enough for a ratio, short on the line. */
function round(value: number): number {
  return Number(value.toPrecision(4));
}
