/**
 * The port an app may listen on: an unprivileged one, and not one the sandbox itself uses. The
 * API's request schema and the CLI's `--port` check both use this rule.
 */
export const MIN_APP_PORT = 1024;
export const MAX_APP_PORT = 65535;

/** Ports of the sandbox's own services: its daemon (envd) on 49983. */
export const RESERVED_APP_PORTS: ReadonlyMap<number, string> = new Map([[49983, "the sandbox daemon's"]]);

/** Why a port is refused, or undefined when an app may listen on it. */
export function appPortProblem(port: number): string | undefined {
  if (!Number.isSafeInteger(port)) return 'must be an integer';
  if (port < MIN_APP_PORT || port > MAX_APP_PORT) return `must be between ${MIN_APP_PORT} and ${MAX_APP_PORT}`;
  const owner = RESERVED_APP_PORTS.get(port);
  if (owner) return `is reserved (it is ${owner} port)`;
  return undefined;
}
