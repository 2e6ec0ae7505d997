/**
 * The message a failed deployment records: what failed, the hint when the cause is known, and the
 * output lines that name the cause. Bounded, so it fits the record and reads in a terminal.
 */
import { causeLines } from './cause-lines.ts';
import { failureHint, type FailureFacts } from './failure-hints.ts';

export interface ExplainedFailure {
  /** One line: what failed. */
  summary: string;
  hint?: string;
  /** The lines of output that name the cause. */
  output: string[];
}

export function explainFailure(summary: string, facts: FailureFacts): ExplainedFailure {
  const output = causeLines(facts.output);
  const hint = failureHint(facts);
  return { summary, ...(hint ? { hint } : {}), output };
}

/** The recorded message: summary, hint and output, one per line. */
export function failureMessage(explained: ExplainedFailure): string {
  return [
    explained.summary,
    ...(explained.hint ? [`hint: ${explained.hint}`] : []),
    ...(explained.output.length > 0 ? ['output:', ...explained.output.map((line) => `  ${line}`)] : []),
  ].join('\n');
}
