/** The closing table of `npm run bench`: every headline figure, its goal and whether it is met. */
import { table, type Colors } from '../../cli/format.ts';
import { FIGURES, verdict, type Verdict } from './bench-goals.ts';
import type { Headline } from './bench-headline.ts';

export type ScriptOutcome =
  | { kind: 'ok' }
  | { kind: 'failed'; exitCode: number | null; signal: string | null }
  | { kind: 'timed out'; minutes: number }
  | { kind: 'bad headline'; message: string };

export interface ScriptResult {
  name: string;
  args: string[];
  /** Quick options the script does not declare, so not passed. */
  skippedArgs: string[];
  outcome: ScriptOutcome;
  headlines: Headline[];
  seconds: number;
}

export function formatFigure(value: number | null): string {
  if (value === null) return '-';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 0.001 || magnitude >= 1e6)) return value.toExponential(2);
  return String(Number(value.toPrecision(3)));
}

export function describeOutcome(result: ScriptResult): string {
  const { outcome } = result;
  switch (outcome.kind) {
    case 'ok':
      return result.headlines.length ? 'ok' : 'ok, no headline';
    case 'failed':
      return outcome.signal ? `FAILED (${outcome.signal})` : `FAILED (exit ${outcome.exitCode})`;
    case 'timed out':
      return `TIMED OUT after ${outcome.minutes} min`;
    case 'bad headline':
      return `BAD HEADLINE: ${outcome.message}`;
  }
}

function paint(text: Verdict, colors: Colors | undefined): string {
  if (!colors) return text;
  if (text === 'met') return colors.green(text);
  if (text === 'not met') return colors.red(text);
  return colors.dim(text);
}

/** One row per figure of every headline; a script without one gets a row saying why. */
export function figureTable(results: readonly ScriptResult[], colors?: Colors): string {
  const rows: string[][] = [];
  for (const result of results) {
    const figures = result.headlines.flatMap((headline) => Object.entries(headline.figures).map(([name, value]) => ({ name, key: `${headline.bench}.${name}`, value })));
    if (!figures.length) {
      rows.push([result.name, '-', '-', '-', '-', describeOutcome(result)]);
      continue;
    }
    for (const { name, key, value } of figures) {
      const description = FIGURES[key];
      const goal = description?.goal;
      rows.push([
        result.name,
        description ? `${name}: ${description.label}` : key,
        formatFigure(value),
        goal ? `${goal.text} (${goal.source})` : '-',
        goal?.before ?? '-',
        result.outcome.kind === 'ok' ? paint(verdict(key, value), colors) : describeOutcome(result),
      ]);
    }
  }
  return table(['SCRIPT', 'FIGURE', 'VALUE', 'GOAL', 'BEFORE', 'VERDICT'], rows, colors);
}

export function scriptTable(results: readonly ScriptResult[], colors?: Colors): string {
  const rows = results.map((result) => [
    result.name,
    result.args.join(' ') || '-',
    `${result.seconds.toFixed(0)} s`,
    describeOutcome(result) + (result.skippedArgs.length ? ` (not declared, not passed: ${result.skippedArgs.join(' ')})` : ''),
  ]);
  return table(['SCRIPT', 'ARGS', 'TIME', 'OUTCOME'], rows, colors);
}
