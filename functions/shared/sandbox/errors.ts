/**
 * The sandbox layer's errors. Flat hierarchy; every class sets a stable `name`, because Step
 * Functions Retry/Catch match on it and minification renames classes.
 */
export class SandboxProviderError extends Error {
  /** Whether repeating the same call later may succeed (rate limits, 5xx, connection errors). */
  readonly transient: boolean;

  constructor(message: string, options?: { cause?: unknown; transient?: boolean }) {
    super(message, { cause: options?.cause });
    this.name = 'SandboxProviderError';
    this.transient = options?.transient ?? false;
  }
}

/** The provider is not configured (for example no API key): nothing was sent. */
export class SandboxConfigurationError extends SandboxProviderError {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxConfigurationError';
  }
}

/** The provider refused our credentials (401/403). */
export class SandboxUnauthorizedError extends SandboxProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxUnauthorizedError';
  }
}

/** The sandbox id (or a path or process inside it) is not known to the provider. */
export class SandboxNotFoundError extends SandboxProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxNotFoundError';
  }
}

/** The sandbox existed but has ended (killed or past its lifetime). */
export class SandboxGoneError extends SandboxProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxGoneError';
  }
}

/** The provider asked us to slow down (429). */
export class SandboxRateLimitedError extends SandboxProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, transient: true });
    this.name = 'SandboxRateLimitedError';
  }
}

/** The provider failed on its side (5xx) or could not be reached. */
export class SandboxUnavailableError extends SandboxProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, { ...options, transient: true });
    this.name = 'SandboxUnavailableError';
  }
}

/** A request or a command ran past its time limit. */
export class SandboxTimeoutError extends SandboxProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxTimeoutError';
  }
}

/**
 * The invocation has too little time left for the call (its timeouts and retries would outlive
 * it): a named failure the state machine retries in a fresh invocation, rather than a timeout
 * that kills the Lambda mid-call.
 */
export class SandboxDeadlineError extends SandboxProviderError {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxDeadlineError';
  }
}

/** The provider rejected the arguments (bad path, duplicate file in a batch, ...). */
export class SandboxInvalidRequestError extends SandboxProviderError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SandboxInvalidRequestError';
  }
}

