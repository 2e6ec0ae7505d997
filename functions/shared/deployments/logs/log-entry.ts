/** One line of a deployment's logs, as `GET /deployments/{id}/logs` returns it. */

/**
 * Where a line's timestamp comes from; anything but `line` is approximate:
 * - `line`: written on the line itself (our capture prefix, ISO-8601, journal short-iso, PM2 time);
 * - `nearby-line`: the line has none, so it takes the one of the nearest timestamped line of the
 *   same file (continuations such as stack trace lines);
 * - `file-name`: the start time in the file's name (npm debug logs);
 * - `file-mtime`: the file's last modification, for files whose lines carry no timestamp at all.
 */
export type TimestampSource = 'line' | 'nearby-line' | 'file-name' | 'file-mtime';

export interface LogEntry {
  /** ISO-8601 in UTC with milliseconds, e.g. `2026-11-25T11:08:39.425Z`. */
  timestamp: string;
  /** `app`, `app-error`, `install`, `npm`, `pm2`, `journal` or `file:<path relative to the app dir>`. */
  source: string;
  /** The line without our capture timestamp; other formats are kept verbatim. */
  line: string;
  timestampSource: TimestampSource;
}
