/**
 * The sandbox host's own operator listing (`GET <host>/_host/sandboxes`), read over HTTP as an
 * operator would, with the operator key when the host requires one. Anything but a well-formed
 * listing is SandboxHostUnreadableError: a check built on it never passes for not seeing.
 */
export interface ListedSandbox {
  /** The id the SDK uses (`<sandboxId>-<clientId>` on the local host). */
  sandboxId: string;
  metadata: Record<string, string>;
  /** The sandbox's directory on the host, when the host says. */
  rootDir?: string;
  processes: { pid: number; command?: string }[];
}

export class SandboxHostUnreadableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxHostUnreadableError';
  }
}

export interface SandboxHostAddress {
  /** e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Sent as `Authorization: Bearer <key>` (hosts with an operator key answer 401 without it). */
  operatorKey?: string;
}

export async function readSandboxHostListing({ url, operatorKey }: SandboxHostAddress): Promise<ListedSandbox[]> {
  const listingUrl = `${url.replace(/\/$/, '')}/_host/sandboxes`;
  let response: Response;
  try {
    response = await fetch(listingUrl, { headers: operatorKey ? { authorization: `Bearer ${operatorKey}` } : {}, signal: AbortSignal.timeout(10_000) });
  } catch (error) {
    throw new SandboxHostUnreadableError(`cannot read the sandbox host's listing at ${listingUrl}: ${describe(error)}`, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new SandboxHostUnreadableError(`the sandbox host answered ${response.status} for ${listingUrl}: ${text.slice(0, 300)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new SandboxHostUnreadableError(`the sandbox host's listing at ${listingUrl} is not JSON: ${text.slice(0, 300)}`);
  }
  if (!Array.isArray(body) || !body.every(isListedSandbox)) {
    throw new SandboxHostUnreadableError(`the sandbox host's listing at ${listingUrl} is not a list of sandboxes: ${text.slice(0, 300)}`);
  }
  return body;
}

function isListedSandbox(value: unknown): value is ListedSandbox {
  const candidate = value as Partial<ListedSandbox> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.sandboxId === 'string' &&
    typeof candidate.metadata === 'object' &&
    Array.isArray(candidate.processes) &&
    (candidate.rootDir === undefined || typeof candidate.rootDir === 'string')
  );
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
