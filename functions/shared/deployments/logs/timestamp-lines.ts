/**
 * Capture with timestamps: every line a command prints is written as
 * `2026-11-25T11:08:39.425Z <line>` (UTC, milliseconds, one space), stamped when the line is read.
 *
 * The filter is ONE long-lived process per stream, not a fork per line: perl with Time::HiRes
 * (about 480k lines/s, flushed line by line), else a bash builtin loop ($EPOCHREALTIME and
 * printf %()T, about 45k lines/s). `date` per line would manage under 1k lines/s.
 * Time::HiRes is checked, not assumed: Debian's perl-base alone lacks it (it is in libperl).
 */
import { shellQuote } from '../../shell-quote.ts';

/** Our capture prefix, as the parser finds it again. */
const CAPTURED_PREFIX = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z) /;

/**
 * Reads stdin, writes each line with the prefix, flushed at once (the log is read while the app
 * runs). No single quotes in the perl program: the filter is itself quoted into other commands.
 * Seconds are formatted once per second; a last line without a newline gets one.
 */
const PERL_FILTER = [
  '$|=1;my($s,$p)=(-1,"");',
  'while(my $l=<STDIN>){',
  'my $t=time;my $i=int $t;',
  'if($i!=$s){$s=$i;my @g=gmtime $i;$p=sprintf "%04d-%02d-%02dT%02d:%02d:%02d",$g[5]+1900,$g[4]+1,$g[3],$g[2],$g[1],$g[0]}',
  '$l.="\\n" unless substr($l,-1) eq "\\n";',
  'printf "%s.%03dZ %s",$p,($t-$i)*1000,$l}',
].join('');

/**
 * Fallback without perl: no fork per line ($EPOCHREALTIME is bash 5; older bash forks `date`).
 * bash drops NUL bytes and warns about them on stderr, hence the stderr to /dev/null.
 */
const BASH_FILTER = [
  'export LC_ALL=C TZ=UTC0;',
  'while IFS= read -r l || [ -n "$l" ]; do',
  't=${EPOCHREALTIME:-$(date +%s.%6N)};',
  'printf "%(%Y-%m-%dT%H:%M:%S)T.%.3sZ %s\\n" "${t%.*}" "${t#*.}" "$l";',
  'done 2>/dev/null',
].join(' ');

/** A shell command (one compound command) that timestamps stdin to stdout. */
export function timestampFilterCommand(): string {
  return `{ if perl -MTime::HiRes -e 1 >/dev/null 2>&1; then exec perl -MTime::HiRes=time -e ${shellQuote(PERL_FILTER)}; else ( ${BASH_FILTER} ); fi; }`;
}

/**
 * For a command run to completion (`sandbox.run`), e.g. the install: stdout and stderr merged
 * in the order the command wrote them, each line timestamped, on stdout. The exit status is the
 * command's, not the filter's. The pipeline is waited for, so every line is written when it ends.
 */
export function timestampedCommand(command: string): string {
  // Quoted into its own bash, as the start command is: nothing in it can change the wrapper.
  return `( bash -c ${shellQuote(command)} 2>&1 | ${timestampFilterCommand()}; exit "\${PIPESTATUS[0]}" )`;
}

/**
 * For a long-running process (`sandbox.startBackground`): stdout and stderr timestamped
 * separately, each to the stream it came from, so they still land in separate files.
 * The shell points its own stdout/stderr at a filter each, then `exec`s the command: the process
 * keeps the pid the sandbox reports (its liveness is the app's), and the filters end when the
 * app's output closes. stderr is redirected first so the stdout filter's inherited stderr is
 * already the stderr filter's (its own messages are timestamped too).
 */
export function timestampedBackgroundCommand(command: string): string {
  const filter = timestampFilterCommand();
  return [`exec 2> >(${filter} >&2) > >(${filter})`, `exec bash -c ${shellQuote(command)}`].join('\n');
}

/** Our prefix split off a captured line; undefined for a line written without it. */
export function splitCapturedTimestamp(line: string): { timestamp: string; text: string } | undefined {
  const match = CAPTURED_PREFIX.exec(line);
  if (!match) return undefined;
  return { timestamp: match[1]!, text: line.slice(match[0].length) };
}
