/**
 * The shell line that starts a long-running process detached from the SDK's stream: its output
 * goes to log files, so nothing depends on the stream staying open.
 */
import { posix } from 'node:path';
import { shellQuote } from '../../shell-quote.ts';

export interface LogPaths {
  stdoutPath: string;
  stderrPath: string;
}

/**
 * `exec bash -c '<command>' >> out 2>> err < /dev/null`: `exec` keeps the pid the SDK reports
 * as the process's pid, `bash -c` lets compound commands (`a && b`, `;`, pipes) work, and output
 * is appended. Relative log paths are taken from the home directory, as the files API does,
 * whatever the process's cwd.
 */
export function backgroundCommandLine(command: string, logs: LogPaths): string {
  return [
    'exec bash -c',
    shellQuote(command),
    `>> ${shellPath(logs.stdoutPath)}`,
    `2>> ${shellPath(logs.stderrPath)}`,
    '< /dev/null',
  ].join(' ');
}

/** Directories that must exist before the shell can open the log files (none for bare names). */
export function logDirectories(logs: LogPaths): string[] {
  const directories = [logs.stdoutPath, logs.stderrPath].map((path) => posix.dirname(path));
  return [...new Set(directories)].filter((directory) => directory !== '.' && directory !== '/');
}

function shellPath(path: string): string {
  return posix.isAbsolute(path) ? shellQuote(path) : `"$HOME"/${shellQuote(path)}`;
}
