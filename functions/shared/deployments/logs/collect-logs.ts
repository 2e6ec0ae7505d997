/**
 * Collects a deployment's recent logs from its sandbox: ONE command runs the collection script
 * (log-sources.ts), and its output is parsed and merged (parse-log-output.ts).
 */
import { APP_DIR, LOG_DIR } from '../app-layout.ts';
import type { SandboxHandle } from '../../sandbox/sandbox-provider.ts';
import type { LogEntry } from './log-entry.ts';
import { LogCollectionError } from './log-errors.ts';
import { resolveLogQuery } from './log-query.ts';
import { buildLogCollectionScript, DEFAULT_HOME_DIR } from './log-sources.ts';
import { parseLogOutput } from './parse-log-output.ts';

export const DEFAULT_COLLECT_TIMEOUT_MS = 15_000;

export interface CollectLogsOptions {
  /** Default 100, at most 1000; InvalidLogQueryError otherwise. */
  lines?: number;
  since?: Date;
  /** App log files relative to the app dir, e.g. `logs/**\/*.log`; InvalidLogGlobError if not allowed. */
  appLogGlob?: string;
  /** Defaults: the layout of app-layout.ts. */
  appDir?: string;
  logDir?: string;
  homeDir?: string;
  /** Deadline of the command in the sandbox. Default 15 s. */
  timeoutMs?: number;
  /** Also npm's debug logs (left out by default: they drown everything else). */
  includeNpmDebug?: boolean;
}

/** Sandbox errors (gone, timeout...) pass through; a broken script is a LogCollectionError. */
export async function collectLogs(sandbox: SandboxHandle, options: CollectLogsOptions = {}): Promise<LogEntry[]> {
  const query = resolveLogQuery(options);
  const script = buildLogCollectionScript({
    ...query,
    appDir: options.appDir ?? APP_DIR,
    logDir: options.logDir ?? LOG_DIR,
    homeDir: options.homeDir ?? DEFAULT_HOME_DIR,
    appLogGlob: options.appLogGlob,
    includeNpmDebug: options.includeNpmDebug ?? false,
  });
  const result = await sandbox.run(script, { timeoutMs: options.timeoutMs ?? DEFAULT_COLLECT_TIMEOUT_MS });
  if (result.exitCode !== 0) {
    throw new LogCollectionError(`the log collection script exited with code ${result.exitCode}: ${result.stderr.trim().slice(-500)}`);
  }
  return parseLogOutput(result.stdout, query);
}
