/**
 * Where the CLI finds the API and its token, first found wins:
 * 1. the `--api-url` / `--token` options;
 * 2. `CODERUNNER_API_URL` / `CODERUNNER_TOKEN`;
 * 3. the local stack's state file (`npm start` writes `.coderunner/local-stack.json` in its working
 *    directory, and a copy in the user's home): `CODERUNNER_STATE_FILE`, else the first one found
 *    from the current directory upward, else the one in `~/.coderunner/`.
 * The state file also gives the local operator endpoint (browser URLs for app ports).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CliError } from './errors.ts';

export const STATE_FILE = join('.coderunner', 'local-stack.json');

/** The copy `npm start` keeps in the user's home, for projects outside the checkout. */
export function userStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.HOME || homedir(), STATE_FILE);
}

export interface CliConfig {
  apiUrl: string;
  token: string;
  /** The local stack's operator endpoint, when the API is the local stack's. */
  operatorUrl?: string;
  /** The key the operator endpoint requires. */
  operatorKey?: string;
  /** Where the API URL came from, for messages. */
  source: string;
}

export interface ConfigInputs {
  apiUrl?: string | undefined;
  token?: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

interface LocalStackState {
  apiUrl?: string;
  operatorUrl?: string;
  operatorKey?: string;
  token?: string;
  pid?: number;
}

const HOW_TO_CONFIGURE =
  'start the local stack with `npm start` in the CodeRunner checkout (the CLI finds its .coderunner/local-stack.json from the current directory upward, in ~/.coderunner, or at CODERUNNER_STATE_FILE), or pass --api-url and --token (or set CODERUNNER_API_URL and CODERUNNER_TOKEN)';

export async function resolveConfig(inputs: ConfigInputs): Promise<CliConfig> {
  const { env } = inputs;
  const flagUrl = nonEmpty(inputs.apiUrl);
  const envUrl = nonEmpty(env.CODERUNNER_API_URL);
  const explicitUrl = flagUrl ?? envUrl;
  const explicitToken = nonEmpty(inputs.token) ?? nonEmpty(env.CODERUNNER_TOKEN);

  // With an explicit URL the state file only adds the operator endpoint: a broken one is no error.
  let statePath: string | undefined;
  let state: LocalStackState | undefined;
  try {
    statePath = locateStateFile(inputs);
    state = statePath ? await readState(statePath) : undefined;
  } catch (error) {
    if (!explicitUrl) throw error;
  }
  const stateMatches = state?.apiUrl !== undefined && (!explicitUrl || sameUrl(explicitUrl, state.apiUrl));

  if (!explicitUrl && !state) {
    throw new CliError(`no CodeRunner API is configured: ${HOW_TO_CONFIGURE}.`);
  }
  if (!explicitUrl && state && statePath) {
    if (!state.apiUrl) throw new CliError(`${statePath} has no apiUrl: restart the local stack with \`npm start\`, or pass --api-url and --token.`);
    if (typeof state.pid === 'number' && !isAlive(state.pid)) {
      throw new CliError(
        `the local stack recorded in ${statePath} is not running (its process ${state.pid} has exited): start it again with \`npm start\`, or pass --api-url and --token.`,
      );
    }
  }

  const apiUrl = checkUrl(explicitUrl ?? state!.apiUrl!, flagUrl ? '--api-url' : envUrl ? 'CODERUNNER_API_URL' : statePath!);
  // The local stack's token goes only to the local stack's API.
  const token = explicitToken ?? (stateMatches ? nonEmpty(state?.token) : undefined);
  if (!token) {
    throw new CliError(`no token for the CodeRunner API at ${apiUrl}: pass --token or set CODERUNNER_TOKEN (the local stack prints one and writes it to ${STATE_FILE}).`);
  }
  const operatorUrl = stateMatches ? nonEmpty(state?.operatorUrl) : undefined;
  const operatorKey = stateMatches ? nonEmpty(state?.operatorKey) : undefined;
  return {
    apiUrl,
    token,
    ...(operatorUrl ? { operatorUrl: operatorUrl.replace(/\/+$/, '') } : {}),
    ...(operatorUrl && operatorKey ? { operatorKey } : {}),
    source: flagUrl ? '--api-url' : envUrl ? 'CODERUNNER_API_URL' : statePath!,
  };
}

function locateStateFile({ env, cwd }: ConfigInputs): string | undefined {
  const explicit = nonEmpty(env.CODERUNNER_STATE_FILE);
  if (explicit) {
    const path = resolve(cwd, explicit);
    if (!existsSync(path)) throw new CliError(`CODERUNNER_STATE_FILE points at ${path}, which does not exist: start the local stack with \`npm start\` there, or unset it.`);
    return path;
  }
  for (let directory = resolve(cwd); ; directory = dirname(directory)) {
    const candidate = join(directory, STATE_FILE);
    if (existsSync(candidate)) return candidate;
    if (dirname(directory) === directory) break;
  }
  const home = userStateFile(env);
  return existsSync(home) ? home : undefined;
}

async function readState(path: string): Promise<LocalStackState> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}): check its permissions, or pass --api-url and --token.`, { cause: error });
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (parsed && typeof parsed === 'object') return parsed as LocalStackState;
  } catch {
    // reported below
  }
  throw new CliError(`${path} is not the local stack's JSON state: restart the local stack with \`npm start\`, or pass --api-url and --token.`);
}

function checkUrl(text: string, origin: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`${origin} gives "${text}", which is not a URL: use the API's http(s) URL, e.g. http://127.0.0.1:3001.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliError(`${origin} gives "${text}", which is not an http(s) URL: use e.g. http://127.0.0.1:3001.`);
  }
  return text.replace(/\/+$/, '');
}

function sameUrl(a: string, b: string): boolean {
  return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** Whether a process exists (EPERM: it does, owned by someone else). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
