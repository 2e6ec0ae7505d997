/**
 * The API names options by their request fields (options.port); a CLI user knows them by their
 * flags (--port). Text from the API (plan reasons, failure hints, validation errors) is shown in
 * the CLI's terms.
 */
export const OPTION_FLAGS: Readonly<Record<string, string>> = {
  'options.port': '--port',
  'options.startCommand': '--start',
  'options.installCommand': '--install',
  'options.buildCommand': '--build',
  'options.env': '--env',
  'options.healthPath': '--health-path',
  'options.timeoutSeconds': '--timeout',
};

const API_OPTION = new RegExp(`\\b(?:${Object.keys(OPTION_FLAGS).map((name) => name.replace('.', '\\.')).join('|')})\\b`, 'g');

/** One variable of the env: `options.env.NAME` is `--env NAME`. */
const ENV_VARIABLE = /\boptions\.env\.(\w+)/g;

export function inCliTerms(text: string): string {
  return text.replace(ENV_VARIABLE, '--env $1').replace(API_OPTION, (name) => OPTION_FLAGS[name] ?? name);
}
