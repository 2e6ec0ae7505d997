/**
 * The AgentSphere error mapping, fed with the SDK's real error classes and the messages the SDK
 * produces (observed against a loopback server).
 */
import {
  AuthenticationError,
  InvalidArgumentError,
  NotEnoughSpaceError,
  NotFoundError,
  SandboxError,
  TimeoutError,
} from 'agentsphere';
import { describe, expect, it } from 'vitest';
import {
  requestNeverSent,
  toSandboxError,
} from '../../../functions/shared/sandbox/agentsphere/map-error.ts';
import {
  SandboxGoneError,
  SandboxInvalidRequestError,
  SandboxNotFoundError,
  SandboxProviderError,
  SandboxRateLimitedError,
  SandboxTimeoutError,
  SandboxUnauthorizedError,
  SandboxUnavailableError,
} from '../../../functions/shared/sandbox/errors.ts';

const SANDBOX_TIMEOUT_HINT =
  ": This error is likely due to sandbox timeout. You can modify the sandbox timeout by passing 'timeoutMs' when starting the sandbox or calling '.setTimeout' on the sandbox with the desired timeout.";

/** The SDK's RateLimitError is not exported; it is a SandboxError with this name. */
function rateLimitError(): SandboxError {
  const error = new SandboxError('Rate limit exceeded, please try again later.');
  error.name = 'RateLimitError';
  return error;
}

function fetchFailed(code: string): TypeError {
  const socketError = Object.assign(new Error(`connect ${code} 127.0.0.1:443`), { code });
  return new TypeError('fetch failed', { cause: socketError });
}

type ErrorClass = new (...args: never[]) => SandboxProviderError;

describe('control-plane errors (SandboxError "<status>: <message>")', () => {
  it.each<[string, ErrorClass]>([
    ['401: Invalid API key', SandboxUnauthorizedError],
    ['403: forbidden', SandboxUnauthorizedError],
    ['404: sandbox "abc" not found', SandboxNotFoundError],
    ['429: slow down: The requests are being rate limited.', SandboxRateLimitedError],
    ['500: boom', SandboxUnavailableError],
    ['503: upstream down', SandboxUnavailableError],
    ['400: timeout must be positive', SandboxInvalidRequestError],
    ['409: conflict', SandboxInvalidRequestError],
  ])('maps "%s" to %o', (message, expected) => {
    const error = new SandboxError(message);

    const mapped = toSandboxError(error, 'list sandboxes');

    expect(mapped).toBeInstanceOf(expected);
  });

  it('marks 5xx and 429 transient and 4xx not', () => {
    const statuses = ['500: x', '502: x', '429: x', '401: x', '404: x', '400: x'];

    const transient = statuses.map((message) => toSandboxError(new SandboxError(message), 'op').transient);

    expect(transient).toEqual([true, true, true, false, false, false]);
  });

  it('maps the unexported RateLimitError by its name', () => {
    const mapped = toSandboxError(rateLimitError(), 'create a sandbox');

    expect(mapped).toBeInstanceOf(SandboxRateLimitedError);
    expect(mapped.transient).toBe(true);
  });
});

describe('sandbox daemon errors', () => {
  it.each<[string, Error, ErrorClass]>([
    ['AuthenticationError', new AuthenticationError('bad token'), SandboxUnauthorizedError],
    ['InvalidArgumentError', new InvalidArgumentError('path is a directory'), SandboxInvalidRequestError],
    ['NotFoundError for a path', new NotFoundError('file not found'), SandboxNotFoundError],
    ['NotFoundError for a dead sandbox', new NotFoundError('Sandbox is probably not running anymore'), SandboxGoneError],
    ['TimeoutError from a 502', new TimeoutError(`sandbox not found${SANDBOX_TIMEOUT_HINT}`), SandboxGoneError],
    ['TimeoutError from RPC unavailable', new TimeoutError(`[unavailable] gone${SANDBOX_TIMEOUT_HINT}`), SandboxGoneError],
    ['TimeoutError from a 503 on RPC', new TimeoutError(`[unavailable] HTTP 503${SANDBOX_TIMEOUT_HINT}`), SandboxUnavailableError],
    [
      'TimeoutError of the request deadline',
      new TimeoutError("[canceled] This operation was aborted: This error is likely due to exceeding 'requestTimeoutMs'."),
      SandboxTimeoutError,
    ],
    [
      'TimeoutError of the command deadline',
      new TimeoutError("[deadline_exceeded] the operation timed out: This error is likely due to exceeding 'timeoutMs'."),
      SandboxTimeoutError,
    ],
  ])('maps %s', (_label, error, expected) => {
    const mapped = toSandboxError(error, 'read app.js in sandbox abc');

    expect(mapped).toBeInstanceOf(expected);
  });

  it('maps NotEnoughSpaceError to a plain provider error that is not transient', () => {
    const mapped = toSandboxError(new NotEnoughSpaceError('disk full'), 'write 3 file(s)');

    expect(mapped.constructor).toBe(SandboxProviderError);
    expect(mapped.transient).toBe(false);
  });

  it.each<[string, ErrorClass]>([
    ['2: [unknown] fetch failed', SandboxUnavailableError],
    ['13: [internal] oops', SandboxUnavailableError],
    ['14: [unavailable] down', SandboxUnavailableError],
    ['2: [unknown] The operation was aborted due to timeout', SandboxTimeoutError],
    ['8: [resource_exhausted] slow', SandboxRateLimitedError],
    ['7: [permission_denied] no', SandboxUnauthorizedError],
    ['9: [failed_precondition] no', SandboxInvalidRequestError],
    ['12: [unimplemented] HTTP 404', SandboxProviderError],
  ])('maps the Connect RPC error "%s"', (message, expected) => {
    const mapped = toSandboxError(new SandboxError(message), 'list processes in sandbox abc');

    expect(mapped).toBeInstanceOf(expected);
    if (expected === SandboxProviderError) expect(mapped.constructor).toBe(SandboxProviderError);
  });
});

describe('network and deadline errors', () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT'])(
    'maps fetch failed caused by %s to unavailable, naming the code',
    (code) => {
      const mapped = toSandboxError(fetchFailed(code), 'connect to sandbox abc');

      expect(mapped).toBeInstanceOf(SandboxUnavailableError);
      expect(mapped.transient).toBe(true);
      expect(mapped.message).toContain(code);
    },
  );

  it('tells a refused connection (nothing sent) from a reset one', () => {
    const refused = toSandboxError(fetchFailed('ECONNREFUSED'), 'create a sandbox');
    const reset = toSandboxError(fetchFailed('ECONNRESET'), 'create a sandbox');

    expect([requestNeverSent(refused), requestNeverSent(reset)]).toEqual([true, false]);
  });

  it.each([
    ['TimeoutError', 'The operation was aborted due to timeout'],
    ['AbortError', 'This operation was aborted'],
  ])('maps a %s DOMException to a timeout', (name, message) => {
    const mapped = toSandboxError(new DOMException(message, name), 'kill sandbox abc');

    expect(mapped).toBeInstanceOf(SandboxTimeoutError);
    expect(mapped.transient).toBe(false);
  });

  it('maps an unparsable response body to unavailable', () => {
    const mapped = toSandboxError(new SyntaxError('Unexpected end of JSON input'), 'list sandboxes');

    expect(mapped).toBeInstanceOf(SandboxUnavailableError);
  });
});

describe('the mapped error itself', () => {
  it('returns a product error unchanged', () => {
    const original = new SandboxGoneError('already mapped');

    const mapped = toSandboxError(original, 'kill sandbox abc');

    expect(mapped).toBe(original);
  });

  it('says what was being done and keeps the SDK error as cause', () => {
    const original = new SandboxError('401: Invalid API key');

    const mapped = toSandboxError(original, 'kill sandbox abc');

    expect(mapped.message).toBe('kill sandbox abc failed: 401: Invalid API key');
    expect(mapped.cause).toBe(original);
    expect(mapped.name).toBe('SandboxUnauthorizedError');
  });

  it('drops the SDK advice from a gone sandbox and says the sandbox has ended', () => {
    const mapped = toSandboxError(new TimeoutError(`sandbox not found${SANDBOX_TIMEOUT_HINT}`), 'read o in sandbox abc');

    expect(mapped.message).toBe('read o in sandbox abc failed: the sandbox is no longer running (sandbox not found)');
  });

  it('maps anything else to a provider error that is not transient', () => {
    const original = new Error('Expected start event');

    const mapped = toSandboxError(original, 'run a command in sandbox abc');

    expect(mapped.constructor).toBe(SandboxProviderError);
    expect(mapped.transient).toBe(false);
    expect(mapped.message).toBe('run a command in sandbox abc failed: Expected start event');
    expect(mapped.cause).toBe(original);
  });

  it('maps a thrown non-error value', () => {
    const mapped = toSandboxError('boom', 'list sandboxes');

    expect(mapped).toBeInstanceOf(SandboxProviderError);
    expect(mapped.message).toBe('list sandboxes failed: boom');
  });
});
