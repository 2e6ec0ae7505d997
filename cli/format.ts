/** Small text helpers: sizes, durations, relative times, colours and tables. */
import picocolors from 'picocolors';

export type Colors = ReturnType<typeof picocolors.createColors>;

/** Colours for a stream: on a terminal, unless NO_COLOR; always with FORCE_COLOR. */
export function colorsFor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Colors {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false';
  const enabled = !('NO_COLOR' in env) && (forced || (Boolean(stream.isTTY) && env.TERM !== 'dumb'));
  return picocolors.createColors(enabled);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${trim(bytes / 1024)} KiB`;
  return `${trim(bytes / (1024 * 1024))} MiB`;
}

function trim(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, '');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}

/** "in 59 min", "3 s ago". */
export function formatRelative(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const delta = new Date(iso).getTime() - now;
  if (Number.isNaN(delta)) return iso;
  const text = formatDuration(Math.abs(delta)).replace(/\.\d s$/, ' s');
  return delta >= 0 ? `in ${text}` : `${text} ago`;
}

/** Columns padded to their widest cell (the last one is not padded). */
export function table(header: string[], rows: string[][], colors?: Colors): string {
  const visible = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '').length;
  const widths = header.map((title, column) => Math.max(visible(title), ...rows.map((row) => visible(row[column] ?? ''))));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - visible(cell))))
      .join('  ')
      .trimEnd();
  const title = line(header);
  return [colors ? colors.bold(title) : title, ...rows.map(line)].join('\n');
}

/** A status in a colour that says how it is going. */
export function paintStatus(status: string, colors: Colors): string {
  if (status === 'RUNNING') return colors.green(status);
  if (status === 'FAILED' || status === 'LOST') return colors.red(status);
  if (status === 'TERMINATED' || status === 'EXPIRED') return colors.dim(status);
  return colors.yellow(status);
}
