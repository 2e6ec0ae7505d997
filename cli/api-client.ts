/**
 * The CodeRunner API over HTTP, with every failure turned into a sentence (an ApiError) that says
 * what went wrong and what to do about it.
 */
import { QUOTA_WORDS, type QuotaName } from '../functions/shared/deployments/quotas/quota-limits.ts';
import type { CliConfig } from './config.ts';
import { inCliTerms } from './option-terms.ts';
import { CliError } from './errors.ts';
import type {
  DeploymentEvent,
  DeploymentLogs,
  DeploymentRequest,
  DeploymentView,
  LiveHealth,
  ManifestAccepted,
  ManifestRequest,
  Page,
  ProblemBody,
  QuotaView,
  SandboxView,
} from './api-types.ts';

const REQUEST_TIMEOUT_MS = 120_000;
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_SOCKET']);

/** An API call that did not succeed; `status` is the HTTP status (0 when the API was not reached). */
export class ApiError extends CliError {
  readonly status: number;
  readonly body: ProblemBody | undefined;

  constructor(status: number, message: string, options: { details?: readonly string[]; body?: ProblemBody; cause?: unknown } = {}) {
    super(message, options);
    this.name = 'ApiError';
    this.status = status;
    this.body = options.body;
  }

  /** Worth asking again: the API was not reached, or failed on its side. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500;
  }
}

interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | undefined>;
  /** The deployment the path is about: a 404 then says so. */
  deploymentId?: string;
  /** Rewrites a validation error's field for the reader (e.g. files[3] → its path). */
  describeField?: (field: string) => string;
}

export class ApiClient {
  readonly config: CliConfig;

  constructor(config: CliConfig) {
    this.config = config;
  }

  createDeployment(request: DeploymentRequest): Promise<DeploymentView> {
    return this.#request<DeploymentView>('POST', '/deployments', {
      body: request,
      describeField: (field) => {
        const index = /^files\[(\d+)\]/.exec(field)?.[1];
        const file = index === undefined ? undefined : request.files[Number(index)];
        return file ? `${field} (${file.path})` : field;
      },
    });
  }

  createManifestDeployment(request: ManifestRequest): Promise<ManifestAccepted> {
    return this.#request<ManifestAccepted>('POST', '/deployments', {
      body: request,
      describeField: (field) => {
        const index = /^manifest\[(\d+)\]/.exec(field)?.[1];
        const file = index === undefined ? undefined : request.manifest[Number(index)];
        return file ? `${field} (${file.path})` : field;
      },
    });
  }

  /** Tells the API every part is uploaded: it checks them against the manifest and starts the deployment. */
  completeUpload(deploymentId: string): Promise<DeploymentView> {
    return this.#request('POST', `/deployments/${encodeURIComponent(deploymentId)}/complete`, { deploymentId });
  }

  getDeployment(deploymentId: string): Promise<DeploymentView> {
    return this.#request('GET', `/deployments/${encodeURIComponent(deploymentId)}`, { deploymentId });
  }

  deleteDeployment(deploymentId: string): Promise<DeploymentView> {
    return this.#request('DELETE', `/deployments/${encodeURIComponent(deploymentId)}`, { deploymentId });
  }

  /** The deployment's status changes, oldest first. */
  async events(deploymentId: string): Promise<DeploymentEvent[]> {
    return (await this.#request<{ items: DeploymentEvent[] }>('GET', `/deployments/${encodeURIComponent(deploymentId)}/events`, { deploymentId })).items;
  }

  health(deploymentId: string): Promise<LiveHealth> {
    return this.#request('GET', `/deployments/${encodeURIComponent(deploymentId)}/health`, { deploymentId });
  }

  quotas(): Promise<QuotaView> {
    return this.#request('GET', '/quotas');
  }

  /** The live sandbox's log lines, or (once ended) the lines saved before its sandbox was killed. */
  logs(deploymentId: string, query: { lines?: number; since?: string; npmDebug?: boolean }): Promise<DeploymentLogs> {
    return this.#request<DeploymentLogs>('GET', `/deployments/${encodeURIComponent(deploymentId)}/logs`, {
      deploymentId,
      query: { lines: query.lines, since: query.since, npmDebug: query.npmDebug ? 'true' : undefined },
    });
  }

  /** Every live sandbox of the caller's (all pages). */
  async listSandboxes(projectId?: string): Promise<SandboxView[]> {
    const items: SandboxView[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.#request<Page<SandboxView>>('GET', '/sandboxes', { query: { projectId, limit: 100, nextToken } });
      items.push(...page.items);
      nextToken = page.nextToken ?? undefined;
    } while (nextToken);
    return items;
  }

  /**
   * A URL a person can open on this machine for an app port: only the local stack's operator
   * endpoint knows one (the API's `url` uses sandbox host names that resolve only in the cloud).
   */
  async browserUrl(sandboxId: string, port: number): Promise<string | undefined> {
    if (!this.config.operatorUrl) return undefined;
    const url = new URL(`${this.config.operatorUrl}/browser-url`);
    url.searchParams.set('sandboxId', sandboxId);
    url.searchParams.set('port', String(port));
    try {
      const response = await fetch(url, {
        signal: AbortSignal.timeout(5_000),
        headers: this.config.operatorKey ? { authorization: `Bearer ${this.config.operatorKey}` } : {},
      });
      if (!response.ok) return undefined;
      const body = (await response.json()) as { url?: unknown };
      return typeof body.url === 'string' ? body.url : undefined;
    } catch {
      return undefined;
    }
  }

  async #request<Answer>(method: string, path: string, options: RequestOptions = {}): Promise<Answer> {
    const { apiUrl, token } = this.config;
    const url = new URL(`${apiUrl}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined && value !== '') url.searchParams.set(name, String(value));
    }
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      throw unreachable(apiUrl, error);
    }
    const text = await response.text().catch(() => '');
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (response.ok) {
      if (body === undefined) throw new ApiError(response.status, `the CodeRunner API at ${apiUrl} answered ${method} ${path} with something that is not JSON: is ${apiUrl} really the CodeRunner API?`);
      return body as Answer;
    }
    throw problem(response, body as ProblemBody | undefined, apiUrl, options);
  }
}

function unreachable(apiUrl: string, error: unknown): ApiError {
  const name = (error as Error)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new ApiError(0, `the CodeRunner API at ${apiUrl} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s: is it overloaded or stuck?`, { cause: error });
  }
  const code = errorCode(error);
  if (code && !UNREACHABLE_CODES.has(code)) {
    return new ApiError(0, `cannot reach the CodeRunner API at ${apiUrl} (${code}): check --api-url / CODERUNNER_API_URL.`, { cause: error });
  }
  return new ApiError(0, `cannot reach the CodeRunner API at ${apiUrl}: is \`npm start\` running?`, { cause: error });
}

/** The system error code under fetch's "fetch failed" TypeError. */
function errorCode(error: unknown): string | undefined {
  for (let current: unknown = error, depth = 0; current && depth < 5; current = (current as { cause?: unknown }).cause, depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const nested = (current as { errors?: unknown[] }).errors?.[0] as { code?: unknown } | undefined;
    if (typeof nested?.code === 'string') return nested.code;
  }
  return undefined;
}

function problem(response: Response, body: ProblemBody | undefined, apiUrl: string, options: RequestOptions): ApiError {
  const { status } = response;
  const message = typeof body?.message === 'string' ? body.message : undefined;
  if (status === 401 || status === 403) {
    const reason = /error_description="([^"]*)"/.exec(response.headers.get('www-authenticate') ?? '')?.[1] ?? message ?? response.statusText;
    return new ApiError(
      status,
      `the CodeRunner API at ${apiUrl} refused the token (${reason}): use a current one: the token \`npm start\` prints (also in .coderunner/local-stack.json), or pass --token / set CODERUNNER_TOKEN.`,
      { ...(body ? { body } : {}) },
    );
  }
  if (status === 404 && options.deploymentId) {
    return new ApiError(status, `no deployment ${options.deploymentId} (or it is not yours).`, { ...(body ? { body } : {}) });
  }
  if (status === 429) return quotaProblem(status, body, response.headers.get('retry-after'));
  if (status >= 500) {
    const requestId = body?.requestId ? `, request id ${body.requestId}` : '';
    return new ApiError(status, `the CodeRunner API failed (${status} ${message ?? response.statusText}${requestId}): try again; if it persists, look at the API's logs.`, {
      ...(body ? { body } : {}),
    });
  }
  const describeField = options.describeField ?? ((field: string) => field);
  const details = (body?.errors ?? []).map((error) => inCliTerms(`${describeField(error.field)}: ${error.rule}`));
  const sentence = message ?? `the CodeRunner API answered ${status} ${response.statusText}`;
  return new ApiError(status, details.length > 0 ? `${sentence}:` : `${sentence}.`, { details, ...(body ? { body } : {}) });
}

/** A 429 in the CLI's own words: which quota, and what to do with the CLI (not the API's fields). */
function quotaProblem(status: number, body: ProblemBody | undefined, retryAfter: string | null): ApiError {
  const quota = body?.quota;
  const headline = quota && isQuotaName(quota.name)
    ? `quota reached: ${QUOTA_WORDS[quota.name]}: ${quota.used} of ${quota.limit} ${quota.name === 'deploymentsPerMinute' ? 'this minute' : 'in use'}`
    : (body?.message ?? 'a quota is reached');
  const advice: Record<string, string> = {
    liveSandboxes: 'end one with `coderunner kill <deployment-id>` (`coderunner ls` lists them), or redeploy into one with `coderunner deploy <dir> --reuse`',
    deploymentsInFlight: 'try again when one of your deployments in flight is running or has ended',
    deploymentsPerMinute: `try again in ${retryAfter ?? 60} s`,
  };
  return new ApiError(status, `${headline}.`, {
    details: [
      ...(quota && advice[quota.name] ? [advice[quota.name]!] : retryAfter ? [`try again in ${retryAfter} s`] : []),
      'see your limits and what you use of them with `coderunner quotas`',
    ],
    ...(body ? { body } : {}),
  });
}

function isQuotaName(name: string): name is QuotaName {
  return Object.hasOwn(QUOTA_WORDS, name);
}
