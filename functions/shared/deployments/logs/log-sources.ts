/**
 * Where a deployment's logs are inside its sandbox, and the ONE bash script that collects the
 * last lines of all of them in a single command.
 *
 * Output of the script, per source file that exists:
 *   @@coderunner-source <kind> <mtime epoch seconds, e.g. 1795603565.061> <label>
 *   |<line>
 *   |<line>
 * Every content line starts with `|`, so no log line can pass for a header. The label is the
 * rest of the header line (spaces allowed; a newline in a file name is shown as `?`): the path,
 * relative to the app dir for `file` sources.
 *
 * Bounds: per source file the last `lines` lines of at most its last 64-512 KiB (1 KiB a line), each
 * line cut at `maxLineBytes`; control characters but tab, CR and ESC removed (binary junk); at most
 * `maxFilesPerSource` files per multi-file source, the newest; 8 MiB of output in all; `find`
 * and `journalctl` each stopped after 5 s.
 */
import { posix } from 'node:path';
import { APP_STDERR_LOG, APP_STDOUT_LOG, BUILD_LOG, INSTALL_LOG } from '../app-layout.ts';
import { appLogGlobSearch, type GlobSearch } from './app-log-glob.ts';
import { InvalidLogQueryError } from './log-errors.ts';
import { shellQuote } from '../../shell-quote.ts';

export type LogSourceKind = 'install' | 'build' | 'app' | 'app-error' | 'npm' | 'pm2' | 'file' | 'journal';
/** In script order, which is also the order of lines with equal timestamps. */
export const LOG_SOURCE_KINDS: readonly LogSourceKind[] = ['install', 'build', 'app', 'app-error', 'npm', 'pm2', 'file', 'journal'];

export const SOURCE_HEADER = '@@coderunner-source';
export const LINE_MARKER = '|';

export const DEFAULT_HOME_DIR = '/home/user';
export const DEFAULT_MAX_FILES_PER_SOURCE = 10;
export const DEFAULT_MAX_LINE_BYTES = 4096;
const MAX_OUTPUT_BYTES = 8 * 1024 * 1024;
const MIN_WINDOW_BYTES = 64 * 1024;
const MAX_WINDOW_BYTES = 512 * 1024;
const COMMAND_TIME_LIMIT_SECONDS = 5;
/** Files written a bit before `since` are read anyway: mtime and line clocks may differ slightly. */
const SINCE_SLACK_SECONDS = 2;

export interface LogCollectionScriptOptions {
  /** Lines per source (the merged result keeps this many in all). */
  lines: number;
  since?: Date;
  appDir: string;
  logDir: string;
  /** Home of the sandbox user, for npm's and PM2's logs. Default `/home/user`. */
  homeDir?: string;
  /** App log files relative to `appDir`, e.g. `logs/**\/*.log`; see app-log-glob.ts. */
  appLogGlob?: string;
  maxFilesPerSource?: number;
  maxLineBytes?: number;
  /**
   * npm's own debug logs (~/.npm/_logs): most of the log volume of a Node deploy and rarely what
   * a user looks for, so only on request (and kept with the logs of a failed deployment).
   */
  includeNpmDebug?: boolean;
}

/** One file at a known path. */
interface FileSource {
  type: 'file';
  kind: LogSourceKind;
  path: string;
}

/** The newest files `find` matches under a directory. */
interface FindSource {
  type: 'find';
  kind: LogSourceKind;
  /** Labels are relative to it; empty for absolute labels. */
  labelBase: string;
  search: GlobSearch;
}

interface JournalSource {
  type: 'journal';
  kind: 'journal';
}

type LogSource = FileSource | FindSource | JournalSource;

/**
 * The script's own functions; the sources' commands follow them. A plain template literal:
 * bash's `${...}` is written `\${...}` and its backslashes doubled.
 */
const SCRIPT_FUNCTIONS = `
# Last lines of stdin, each cut and marked: control bytes dropped (not ESC: the parser removes
# colour codes whole), the partial first line skipped when $1 = 1.
cr_lines() {
  tr -d '\\000-\\010\\013\\014\\016-\\032\\034-\\037\\177' | awk -v skip="$1" -v n="$CR_LINES" -v max="$CR_MAX_LINE" '
    NR > skip { count++; kept[count % n] = substr($0, 1, max) }
    END { first = count > n ? count - n + 1 : 1; for (i = first; i <= count; i++) print "|" kept[i % n] }'
}
# cr_file <kind> <path> <label>: header and last lines of a regular, readable file.
cr_file() {
  local kind=$1 path=$2 label=$3 size seconds mtime skip=0
  [ -f "$path" ] && [ -r "$path" ] || return 0
  read -r size seconds mtime < <(stat -L -c '%s %Y %.3Y' -- "$path" 2>/dev/null)
  [ -n "$mtime" ] || return 0
  [ "$seconds" -ge "$CR_SINCE_FLOOR" ] || return 0
  [ "$size" -gt "$CR_WINDOW" ] && skip=1
  label=\${label//$'\\n'/?}
  label=\${label//$'\\r'/?}
  printf '%s %s %s %s\\n' "$CR_HEADER" "$kind" "$mtime" "$label"
  tail -c "$CR_WINDOW" -- "$path" 2>/dev/null | cr_lines "$skip"
}
# cr_find <kind> <label base> <start> <min depth> <max depth> <find tests...>: newest matches, oldest first.
cr_find() {
  local kind=$1 base=$2 start=$3 min=$4 max=$5 path label
  shift 5
  [ -d "$start" ] || return 0
  while IFS= read -r -d '' path; do
    label=$path
    [ -n "$base" ] && label=\${path#"$base"/}
    cr_file "$kind" "$path" "$label"
  done < <(timeout "$CR_TIME_LIMIT" find "$start" -mindepth "$min" -maxdepth "$max" "$@" -printf '%T@ %p\\0' 2>/dev/null |
    sort -z -rn | head -z -n "$CR_MAX_FILES" | sort -z -n | cut -z -d ' ' -f 2-)
}
# cr_journal [journalctl options...]: the system journal, when the sandbox has one that answers.
cr_journal() {
  command -v journalctl >/dev/null 2>&1 || return 0
  printf '%s journal %s journalctl\\n' "$CR_HEADER" "$(date +%s.%3N)"
  timeout "$CR_TIME_LIMIT" journalctl --no-pager -o short-iso -n "$CR_LINES" "$@" 2>/dev/null | cr_lines 0
}
`;

/** The whole script: settings, functions, one command per source, all output bounded. */
export function buildLogCollectionScript(options: LogCollectionScriptOptions): string {
  const lines = checkLines(options.lines);
  const settings = {
    CR_HEADER: SOURCE_HEADER,
    CR_LINES: lines,
    CR_WINDOW: windowBytes(lines),
    CR_MAX_LINE: positiveInteger(options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, 'maxLineBytes'),
    CR_MAX_FILES: positiveInteger(options.maxFilesPerSource ?? DEFAULT_MAX_FILES_PER_SOURCE, 'maxFilesPerSource'),
    CR_SINCE_FLOOR: options.since ? Math.floor(options.since.getTime() / 1000) - SINCE_SLACK_SECONDS : 0,
    CR_TIME_LIMIT: COMMAND_TIME_LIMIT_SECONDS,
  };
  return [
    // Byte semantics everywhere (tr ranges, awk substr), whatever the sandbox's locale.
    'export LC_ALL=C',
    ...Object.entries(settings).map(([name, value]) => `${name}=${shellQuote(String(value))}`),
    SCRIPT_FUNCTIONS,
    '{',
    ...logSources(options).map((source) => sourceCommand(source, options.since)),
    `} 2>/dev/null | head -c ${MAX_OUTPUT_BYTES}`,
    // Missing sources are not failures; a non-zero exit means the script itself broke.
    'exit 0',
  ].join('\n');
}

/** Every source the options name, in LOG_SOURCE_KINDS order. */
function logSources(options: LogCollectionScriptOptions): LogSource[] {
  const appDir = absolute(options.appDir, 'appDir');
  const logDir = absolute(options.logDir, 'logDir');
  const homeDir = absolute(options.homeDir ?? DEFAULT_HOME_DIR, 'homeDir');
  const sources: LogSource[] = [
    { type: 'file', kind: 'install', path: `${logDir}/${posix.basename(INSTALL_LOG)}` },
    { type: 'file', kind: 'build', path: `${logDir}/${posix.basename(BUILD_LOG)}` },
    { type: 'file', kind: 'app', path: `${logDir}/${posix.basename(APP_STDOUT_LOG)}` },
    { type: 'file', kind: 'app-error', path: `${logDir}/${posix.basename(APP_STDERR_LOG)}` },
    ...(options.includeNpmDebug
      ? [{ type: 'find', kind: 'npm', labelBase: '', search: flatSearch(`${homeDir}/.npm/_logs`, '[^/]*-debug-[^/]*\\.log') } as const]
      : []),
    { type: 'find', kind: 'pm2', labelBase: '', search: flatSearch(`${homeDir}/.pm2/logs`, '[^/]*\\.log') },
  ];
  if (options.appLogGlob !== undefined) {
    sources.push({ type: 'find', kind: 'file', labelBase: appDir, search: appLogGlobSearch(appDir, options.appLogGlob) });
  }
  sources.push({ type: 'journal', kind: 'journal' });
  return sources;
}

function sourceCommand(source: LogSource, since: Date | undefined): string {
  switch (source.type) {
    case 'file':
      return command('cr_file', source.kind, source.path, source.path);
    case 'find':
      return command('cr_find', source.kind, source.labelBase, ...findArguments(source.search));
    case 'journal':
      return command('cr_journal', ...(since ? [`--since=@${Math.floor(since.getTime() / 1000)}`] : []));
  }
}

/** A call of one of the script's functions, every argument quoted. */
function command(name: string, ...args: string[]): string {
  return [name, ...args.map(shellQuote)].join(' ');
}

/** `<start> <min> <max> [( -name a -o -name b ) -prune -o] -type f -regextype posix-extended -regex <re>`. */
function findArguments(search: GlobSearch): string[] {
  const prune = search.prune.length > 0
    ? ['(', ...search.prune.flatMap((name, index) => [...(index > 0 ? ['-o'] : []), '-name', name]), ')', '-prune', '-o']
    : [];
  return [
    search.startDir,
    String(search.minDepth),
    String(search.maxDepth),
    ...prune,
    '-type', 'f', '-regextype', 'posix-extended', '-regex', search.pathRegex,
  ];
}

/** Files directly in `dir` whose name matches `nameRegex` (depth 1, so the regex needs no directory). */
function flatSearch(dir: string, nameRegex: string): GlobSearch {
  return { startDir: dir, minDepth: 1, maxDepth: 1, pathRegex: `.*/${nameRegex}`, prune: [] };
}

/** Enough bytes for `lines` ordinary lines, bounded both ways. */
function windowBytes(lines: number): number {
  return Math.min(MAX_WINDOW_BYTES, Math.max(MIN_WINDOW_BYTES, lines * 1024));
}

function checkLines(lines: number): number {
  if (!Number.isInteger(lines) || lines < 1) throw new InvalidLogQueryError(`lines must be a positive integer, got ${lines}`);
  return lines;
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

function absolute(path: string, name: string): string {
  if (!posix.isAbsolute(path) || path.includes('\n')) throw new RangeError(`${name} must be an absolute path, got "${path}"`);
  return path.replace(/\/+$/, '') || '/';
}
