/** What every command works with: the output streams and their colours, and the API client. */
import { ApiClient } from './api-client.ts';
import { resolveConfig } from './config.ts';
import { colorsFor, type Colors } from './format.ts';

export interface GlobalOptions {
  apiUrl?: string;
  token?: string;
}

export interface CommandContext {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** Colours for stdout and for stderr. */
  out: Colors;
  err: Colors;
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The API client, configured from the options, the environment or the local stack (see config.ts). */
  client(): Promise<ApiClient>;
}

export function createContext(globals: GlobalOptions): CommandContext {
  let client: Promise<ApiClient> | undefined;
  const env = process.env;
  const cwd = process.cwd();
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    out: colorsFor(process.stdout, env),
    err: colorsFor(process.stderr, env),
    env,
    cwd,
    client: () => (client ??= resolveConfig({ apiUrl: globals.apiUrl, token: globals.token, env, cwd }).then((config) => new ApiClient(config))),
  };
}

/** Whether a person is at the terminal to answer a question. */
export function isInteractive(context: CommandContext): boolean {
  return Boolean(context.stdin.isTTY && context.stderr.isTTY);
}

/** Pretty JSON on stdout, for `--json`. */
export function printJson(context: CommandContext, value: unknown): void {
  context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
