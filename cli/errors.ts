/**
 * Errors meant for the person at the terminal: the message is a sentence that says what happened
 * and what to do, shown without a stack trace (unless CODERUNNER_DEBUG=1).
 */

export const EXIT_FAILURE = 1;
/** 128 + SIGINT, as a shell reports a command stopped by Ctrl-C. */
export const EXIT_INTERRUPTED = 130;

export class CliError extends Error {
  readonly exitCode: number;
  /** Further lines printed under the sentence (one problem each). */
  readonly details: readonly string[];

  constructor(message: string, options: { exitCode?: number; details?: readonly string[]; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
    this.details = options.details ?? [];
  }
}

export function isDebug(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.CODERUNNER_DEBUG === '1' || env.CODERUNNER_DEBUG === 'true';
}

/** The text printed for an error that ends the command. */
export function describeFailure(error: unknown, debug: boolean): string {
  if (error instanceof CliError) {
    const lines = [`error: ${error.message}`, ...error.details.map((detail) => `  ${detail}`)];
    if (debug) {
      lines.push(stackOf(error));
      for (let cause = error.cause, depth = 0; cause !== undefined && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
        lines.push(`caused by: ${stackOf(cause)}`);
      }
    }
    return lines.join('\n');
  }
  const message = error instanceof Error ? error.message : String(error);
  if (debug) return `error: unexpected failure: ${message}\n${stackOf(error)}`;
  return `error: unexpected failure: ${message} (set CODERUNNER_DEBUG=1 to see where it happened)`;
}

function stackOf(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
