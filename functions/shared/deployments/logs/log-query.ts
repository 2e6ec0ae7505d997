/**
 * The query of `GET /deployments/{id}/logs?lines=N&since=T`: how many lines (default 100, at
 * most 1000) and from when. Out-of-range input is an InvalidLogQueryError (a client error).
 */
import { InvalidLogQueryError } from './log-errors.ts';

export const DEFAULT_LOG_LINES = 100;
export const MAX_LOG_LINES = 1000;

export interface LogQuery {
  lines: number;
  since?: Date;
}

/** ISO-8601 date, or date-time with seconds optional and a zone required (no local-time guessing). */
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** Checks typed input and fills the default. */
export function resolveLogQuery(input: { lines?: number; since?: Date }): LogQuery {
  const lines = input.lines ?? DEFAULT_LOG_LINES;
  if (!Number.isInteger(lines) || lines < 1 || lines > MAX_LOG_LINES) {
    throw new InvalidLogQueryError(`lines must be an integer from 1 to ${MAX_LOG_LINES}, got ${lines}`);
  }
  if (input.since !== undefined && Number.isNaN(input.since.getTime())) {
    throw new InvalidLogQueryError('since must be a valid date');
  }
  return input.since === undefined ? { lines } : { lines, since: input.since };
}

/** The query string's raw values (`?lines=50&since=2026-11-25T11:00:00Z`); absent or empty means default. */
export function parseLogQueryParameters(parameters: { lines?: string; since?: string }): LogQuery {
  return resolveLogQuery({ lines: parseLines(parameters.lines), since: parseSince(parameters.since) });
}

function parseLines(text: string | undefined): number | undefined {
  if (text === undefined || text === '') return undefined;
  if (!/^\d{1,7}$/.test(text)) throw new InvalidLogQueryError(`lines must be an integer from 1 to ${MAX_LOG_LINES}, got "${text}"`);
  return Number(text);
}

function parseSince(text: string | undefined): Date | undefined {
  if (text === undefined || text === '') return undefined;
  const since = ISO_TIMESTAMP.test(text) ? new Date(text) : undefined;
  if (!since || Number.isNaN(since.getTime())) {
    throw new InvalidLogQueryError(`since must be an ISO-8601 timestamp with a zone (e.g. 2026-11-25T11:00:00Z), got "${text}"`);
  }
  return since;
}
