/**
 * Turns whatever the AgentSphere SDK throws into the product's sandbox errors.
 *
 * What the SDK (E2B v1.7.1 fork) actually throws, observed against a loopback server:
 * - control plane: 429 -> `RateLimitError` (not exported); every other status ->
 *   `SandboxError("<status>: <message>")`, 401/403/404 included;
 * - daemon HTTP (files, health): 400/401/404/507 -> InvalidArgument/Authentication/NotFound/
 *   NotEnoughSpace, 502 -> `TimeoutError("...likely due to sandbox timeout...")`, others ->
 *   `SandboxError("<status>: ...")`;
 * - daemon Connect RPC: `handleRpcError` gives NotFound/InvalidArgument/Authentication, a
 *   `TimeoutError` for unavailable (sandbox gone) / canceled / deadline_exceeded, and for the rest
 *   `SandboxError("<numeric code>: [<code name>] <message>")`, e.g. `2: [unknown] fetch failed`;
 * - the first event of a command on a dead sandbox: `NotFoundError("Sandbox is probably not running anymore")`;
 * - network failures on REST calls: `TypeError("fetch failed")` whose `cause.code` is ECONNREFUSED...;
 * - request deadlines on REST calls: a `DOMException` named `TimeoutError`.
 */
import {
  AuthenticationError,
  InvalidArgumentError,
  NotEnoughSpaceError,
  NotFoundError,
  SandboxError,
  TemplateError,
  TimeoutError,
} from 'agentsphere';
import {
  SandboxGoneError,
  SandboxInvalidRequestError,
  SandboxNotFoundError,
  SandboxProviderError,
  SandboxRateLimitedError,
  SandboxTimeoutError,
  SandboxUnauthorizedError,
  SandboxUnavailableError,
} from '../errors.ts';

type ErrorFactory = (message: string, options: { cause: unknown }) => SandboxProviderError;

const unauthorized: ErrorFactory = (message, options) => new SandboxUnauthorizedError(message, options);
const notFound: ErrorFactory = (message, options) => new SandboxNotFoundError(message, options);
const gone: ErrorFactory = (message, options) => new SandboxGoneError(message, options);
const rateLimited: ErrorFactory = (message, options) => new SandboxRateLimitedError(message, options);
const unavailable: ErrorFactory = (message, options) => new SandboxUnavailableError(message, options);
const timedOut: ErrorFactory = (message, options) => new SandboxTimeoutError(message, options);
const invalidRequest: ErrorFactory = (message, options) => new SandboxInvalidRequestError(message, options);
const providerError: ErrorFactory = (message, options) => new SandboxProviderError(message, options);

/** Connection-level failure codes (Node `cause.code`): the provider could not be reached. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/** Failures where the request provably never reached the provider: repeating it cannot duplicate work. */
const NEVER_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

/** Connect RPC code names (as the SDK writes them in `[...]`) -> product error. */
const RPC_CODES: Record<string, ErrorFactory> = {
  canceled: timedOut,
  deadline_exceeded: timedOut,
  unknown: unavailable,
  internal: unavailable,
  unavailable,
  aborted: unavailable,
  resource_exhausted: rateLimited,
  unauthenticated: unauthorized,
  permission_denied: unauthorized,
  not_found: notFound,
  invalid_argument: invalidRequest,
  already_exists: invalidRequest,
  failed_precondition: invalidRequest,
  out_of_range: invalidRequest,
};

/**
 * Maps `err` to a SandboxProviderError whose message starts with `context` (what was being done,
 * e.g. `kill sandbox abc`). The original error is kept as `cause`. A SandboxProviderError passes
 * through unchanged, so mapping twice is harmless.
 */
export function toSandboxError(err: unknown, context: string): SandboxProviderError {
  if (err instanceof SandboxProviderError) return err;
  const factory = classify(err);
  const detail = factory === gone ? `the sandbox is no longer running (${describe(err)})` : describe(err);
  return factory(`${context} failed: ${detail}`, { cause: err });
}

/** Runs `fn`, mapping anything it throws; for calls that must not be repeated. */
export async function withErrorMapping<T>(context: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toSandboxError(err, context);
  }
}

/** The Node network error code (`ECONNREFUSED`, `UND_ERR_SOCKET`, ...) anywhere in the cause chain. */
export function networkErrorCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 8 && current instanceof Object; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_ERROR_CODES.has(code) || code.startsWith('UND_ERR_'))) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when the failure happened before the request left this machine (refused, DNS). */
export function requestNeverSent(err: unknown): boolean {
  const code = networkErrorCode(err);
  return code !== undefined && NEVER_SENT_CODES.has(code);
}

function classify(err: unknown): ErrorFactory {
  if (!(err instanceof Error)) return providerError;
  // RateLimitError is not exported by the SDK; its name is stable.
  if (err.name === 'RateLimitError') return rateLimited;
  if (err instanceof TimeoutError) return classifySdkTimeout(err);
  if (err instanceof NotFoundError) return isSandboxGoneMessage(err.message) ? gone : notFound;
  if (err instanceof AuthenticationError) return unauthorized;
  if (err instanceof InvalidArgumentError) return invalidRequest;
  if (err instanceof NotEnoughSpaceError || err instanceof TemplateError) return providerError;
  if (err instanceof SandboxError) return classifyPlainSdkError(err);
  // fetch's own deadline (AbortSignal.timeout) and aborts: DOMExceptions, not the SDK's TimeoutError.
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return timedOut;
  if (isNetworkFailure(err)) return unavailable;
  // The SDK parses response bodies as JSON without checking them: a garbled body from a proxy.
  if (err instanceof SyntaxError) return unavailable;
  // `Sandbox.getInfo` (and so `connect`) throws this bare Error when an error response had an empty
  // body (the SDK then takes it for success but finds no data): a broken response, not a 404.
  if (err.message === 'Sandbox not found') return unavailable;
  return providerError;
}

/**
 * The SDK formats the daemon's 502 (and RPC `unavailable`) as "likely due to sandbox timeout":
 * the sandbox has ended. Other TimeoutErrors are request or command deadlines.
 */
function classifySdkTimeout(err: Error): ErrorFactory {
  if (!/sandbox timeout/i.test(err.message)) return timedOut;
  // A load balancer's 503/504 also becomes RPC `unavailable`; the sandbox may well be alive.
  if (/\bHTTP 50[34]\b/.test(err.message)) return unavailable;
  return gone;
}

/** `SandboxError("<http status>: ...")` or `SandboxError("<rpc code>: [<name>] ...")`. */
function classifyPlainSdkError(err: Error): ErrorFactory {
  const http = /^(\d{3}): /.exec(err.message);
  if (http) return classifyHttpStatus(Number(http[1]));
  const rpc = /^\d{1,2}: \[([a-z_]+)\]/.exec(err.message);
  if (rpc) {
    // connect-web reports fetch's own deadline (AbortSignal.timeout) as `unknown`.
    if (rpc[1] === 'unknown' && /aborted due to timeout/i.test(err.message)) return timedOut;
    return RPC_CODES[rpc[1]!] ?? providerError;
  }
  return providerError;
}

function classifyHttpStatus(status: number): ErrorFactory {
  if (status === 401 || status === 403) return unauthorized;
  if (status === 404) return notFound;
  if (status === 408) return timedOut;
  if (status === 429) return rateLimited;
  if (status >= 500) return unavailable;
  if (status >= 400) return invalidRequest;
  return providerError;
}

function isSandboxGoneMessage(message: string): boolean {
  return /probably not running anymore/i.test(message);
}

/** The provider could not be reached: fetch's `TypeError: fetch failed` or a socket error code. */
export function isNetworkFailure(err: unknown): boolean {
  if (networkErrorCode(err) !== undefined) return true;
  return err instanceof TypeError && /fetch failed|network|socket/i.test(err.message);
}

/** The SDK's message without its long advice suffix, plus the network code when there is one. */
function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const message = err.message.replace(/: This error is likely due to[\s\S]*$/, '') || err.name;
  const code = networkErrorCode(err.cause);
  return code ? `${message} (${code})` : message;
}
