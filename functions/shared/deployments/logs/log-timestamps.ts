/**
 * Timestamps written in foreign log lines and file names, as epoch milliseconds.
 * A time without a zone is taken as UTC: sandboxes run in UTC (PM2's `time` option and many
 * loggers write local time without a zone).
 */
import { posix } from 'node:path';

/**
 * At the start of the line, optionally in brackets: ISO-8601 (`2026-11-25T11:08:39.425Z`),
 * journal short-iso (`2026-11-25T11:08:39+0000`), PM2 (`2026-11-25T11:08:39: `), and the
 * space/comma variants (`2026-11-25 11:08:39,425 INFO`).
 */
const LEADING_TIMESTAMP =
  /^\[?(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}(?::?\d{2})?)?(?!\d)/;
/** `2026-11-25T11_08_39_425Z-debug-0.log`: npm's start time, with `_` for `:` and `.`. */
const NPM_DEBUG_LOG_NAME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})_(\d{2})_(\d{2})_(\d{3})Z-debug-\d+\.log$/;

export function parseLeadingTimestamp(line: string): number | undefined {
  const match = LEADING_TIMESTAMP.exec(line);
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = match;
  const utc = utcMilliseconds([year!, month!, day!, hour!, minute!, second!], fraction);
  return utc === undefined ? undefined : utc - zoneOffsetMinutes(zone) * 60_000;
}

/** The start time in the name of an npm debug log; undefined for any other name. */
export function npmLogStartTime(path: string): number | undefined {
  const match = NPM_DEBUG_LOG_NAME.exec(posix.basename(path));
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, milliseconds] = match;
  return utcMilliseconds([year!, month!, day!, hour!, minute!, second!], milliseconds!);
}

/** Undefined for a field out of range (month 13, hour 25...), which Date.UTC would roll over. */
function utcMilliseconds(fields: string[], fraction: string): number | undefined {
  const [year, month, day, hour, minute, second] = fields.map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  const milliseconds = Number(fraction.padEnd(3, '0').slice(0, 3));
  return Date.UTC(year, month - 1, day, hour, minute, second, milliseconds);
}

/** `Z`, `+02`, `+0200`, `-02:00` as minutes east of UTC. */
function zoneOffsetMinutes(zone: string): number {
  if (zone === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0'));
}
