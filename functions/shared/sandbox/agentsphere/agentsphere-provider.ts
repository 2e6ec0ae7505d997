/**
 * The production SandboxProvider: AgentSphere through its SDK (`agentsphere`, an E2B v1 fork).
 * Every SDK call gets the API key, domain and request timeout explicitly and goes through
 * toSandboxError; calls that are safe to repeat are retried on transient errors.
 */
import { Sandbox, type SandboxOpts } from 'agentsphere';
import {
  SandboxGoneError,
  SandboxNotFoundError,
  SandboxRateLimitedError,
  SandboxUnavailableError,
  type SandboxProviderError,
} from '../errors.ts';
import type {
  CreateSandboxInput,
  SandboxHandle,
  SandboxMetadata,
  SandboxProvider,
  SandboxSummary,
} from '../sandbox-provider.ts';
import {
  AgentSphereSandbox,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_UPLOAD_TIMEOUT_MS,
  type AgentSphereSandboxOptions,
} from './agentsphere-sandbox.ts';
import {
  assertSdkDebugOff,
  checkDomain,
  DEFAULT_AGENTSPHERE_DOMAIN,
  DEFAULT_REQUEST_TIMEOUT_MS,
  requireApiKey,
} from './config.ts';
import { killSandbox, lifetimeMs, sdkConnectionOptions, setSandboxLifetime } from './control-plane.ts';
import { isNetworkFailure, requestNeverSent } from './map-error.ts';
import { withRetry, type RetryOptions } from './retry.ts';
import type { DeadlineSource } from './time-budget.ts';

export interface AgentSphereProviderOptions {
  /** Required; an empty key throws SandboxConfigurationError here, before any request. */
  apiKey: string;
  /** Default `agentsphere.run`. */
  domain?: string;
  /** Deadline of each request. Default 30 s. */
  requestTimeoutMs?: number;
  /** Template of new sandboxes. Default: the SDK's default template. */
  template?: string;
  /** Backoff of retried calls. Default 4 retries, 200 ms .. 3 s with jitter. */
  retry?: Omit<RetryOptions, 'retryOn'>;
  /** Deadline of a foreground command when the caller gives none. Default 60 s. */
  commandTimeoutMs?: number;
  /** Deadline of one `writeFiles` upload. Default 120 s. */
  uploadTimeoutMs?: number;
  /**
   * Scheme of the app URLs the provider serves sandbox ports on: `https` in the cloud; a local
   * stand-in that serves plain HTTP on loopback (`*.localhost`) is configured with `http`.
   */
  appUrlScheme?: 'https' | 'http';
  /**
   * When the current invocation ends (epoch ms), read at each call: every request's timeout,
   * command deadline and retry fits the time left. Default: none (a process that never ends).
   */
  deadline?: DeadlineSource;
}

export class AgentSphereProvider implements SandboxProvider {
  readonly #options: AgentSphereSandboxOptions;
  readonly #template: string | undefined;

  constructor(options: AgentSphereProviderOptions) {
    assertSdkDebugOff();
    this.#options = {
      connection: {
        apiKey: requireApiKey(options.apiKey),
        domain: checkDomain(options.domain ?? DEFAULT_AGENTSPHERE_DOMAIN),
        requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
        ...(options.deadline ? { deadline: options.deadline } : {}),
      },
      retry: { ...options.retry, ...(options.deadline ? { deadline: options.deadline } : {}) },
      commandTimeoutMs: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      uploadTimeoutMs: options.uploadTimeoutMs ?? DEFAULT_UPLOAD_TIMEOUT_MS,
      appUrlScheme: options.appUrlScheme ?? 'https',
    };
    this.#template = options.template;
  }

  /**
   * Retried only when the request surely created nothing (rate limited, connection refused, DNS):
   * after a 5xx or a timeout a sandbox may exist, and a retry would start a second one.
   */
  async create(input: CreateSandboxInput): Promise<SandboxHandle> {
    const sandboxOptions = {
      ...sdkConnectionOptions(this.#options.connection),
      metadata: { ...input.metadata },
      envs: input.env,
      timeoutMs: lifetimeMs(input.lifetimeSeconds),
      // The daemon of a non-secure sandbox takes requests with no token, and its host name is
      // derived from the public app URL: without this, anyone with the URL runs commands in it.
      // The SDK keeps the access token inside the Sandbox object; it never leaves this adapter.
      secure: true,
    };
    const sandbox = await withRetry('create a sandbox', () => this.#createOnce(sandboxOptions), {
      ...this.#options.retry,
      retryOn: isSafeToRepeatCreate,
    });
    return new AgentSphereSandbox(sandbox, this.#options);
  }

  /** `Sandbox.connect` asks the control plane first: an unknown id fails with SandboxNotFoundError. */
  async connect(sandboxId: string): Promise<SandboxHandle> {
    const sandbox = await withRetry(
      `connect to sandbox ${sandboxId}`,
      () => Sandbox.connect(sandboxId, sdkConnectionOptions(this.#options.connection)),
      this.#options.retry,
    );
    return new AgentSphereSandbox(sandbox, this.#options);
  }

  async list(filter: Partial<SandboxMetadata>): Promise<SandboxSummary[]> {
    const metadata = definedEntries(filter);
    // An empty filter is left out: the SDK would send `metadata=` rather than nothing.
    const query = Object.keys(metadata).length > 0 ? { metadata, state: 'running' } : { state: 'running' };
    const listed = await withRetry(
      'list sandboxes',
      () => Sandbox.list({ ...sdkConnectionOptions(this.#options.connection), query }),
      this.#options.retry,
    );
    // Filter again here: a provider that ignored the filter must not leak another user's sandboxes.
    return listed.filter((sandbox) => containsAll(sandbox.metadata ?? {}, metadata)).map(toSummary);
  }

  async extendLifetime(sandboxId: string, lifetimeSeconds: number): Promise<void> {
    await setSandboxLifetime(sandboxId, lifetimeSeconds, this.#options);
  }

  async kill(sandboxId: string): Promise<void> {
    await killSandbox(sandboxId, this.#options);
  }

  /** Cheap: one control-plane lookup, no connection to the sandbox itself. */
  async isAlive(sandboxId: string): Promise<boolean> {
    try {
      await withRetry(
        `look up sandbox ${sandboxId}`,
        () => Sandbox.getInfo(sandboxId, sdkConnectionOptions(this.#options.connection)),
        this.#options.retry,
      );
      return true;
    } catch (err) {
      if (err instanceof SandboxNotFoundError || err instanceof SandboxGoneError) return false;
      throw err;
    }
  }

  /**
   * The SDK takes an error response with an empty body for success and then fails on the missing
   * data (TypeError) or builds the id `undefined-undefined`: both mean the provider answered badly.
   */
  async #createOnce(sandboxOptions: SandboxOpts): Promise<Sandbox> {
    let sandbox: Sandbox;
    try {
      sandbox = this.#template ? await Sandbox.create(this.#template, sandboxOptions) : await Sandbox.create(sandboxOptions);
    } catch (err) {
      if (err instanceof TypeError && !isNetworkFailure(err)) {
        throw new SandboxUnavailableError('create a sandbox failed: the provider answered without a sandbox', { cause: err });
      }
      throw err;
    }
    if (!isUsableSandboxId(sandbox.sandboxId)) {
      throw new SandboxUnavailableError(`create a sandbox failed: the provider answered without a sandbox id ("${sandbox.sandboxId}")`);
    }
    return sandbox;
  }
}

function isSafeToRepeatCreate(error: SandboxProviderError): boolean {
  return error instanceof SandboxRateLimitedError || requestNeverSent(error);
}

/** `<sandboxID>-<clientID>`; the SDK fills a missing part with the text "undefined". */
function isUsableSandboxId(sandboxId: unknown): sandboxId is string {
  return typeof sandboxId === 'string' && sandboxId !== '' && !sandboxId.split('-').includes('undefined');
}

function definedEntries(filter: Partial<SandboxMetadata>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(filter).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

function containsAll(metadata: Record<string, string>, wanted: Record<string, string>): boolean {
  return Object.entries(wanted).every(([key, value]) => metadata[key] === value);
}

function toSummary(sandbox: Awaited<ReturnType<typeof Sandbox.list>>[number]): SandboxSummary {
  return {
    sandboxId: sandbox.sandboxId,
    metadata: sandbox.metadata ?? {},
    startedAt: sandbox.startedAt,
    expiresAt: sandbox.endAt,
  };
}
