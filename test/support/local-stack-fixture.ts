/**
 * A real local stack for an end-to-end test file (dynalite, s3rver, the ASL runner, the local
 * sandbox host, real HTTP), with a small API client and polling helpers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { inject } from 'vitest';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../infra/local/local-stack.ts';

export const TEST_ENVIRONMENT = {
  HEALTH_TIMEOUT_SECONDS: '5',
  // Tests deploy many times a minute as one user; the quota tests set their own limits.
  QUOTA_LIVE_SANDBOXES: '1000',
  QUOTA_DEPLOYMENTS_IN_FLIGHT: '1000',
  QUOTA_DEPLOYMENTS_PER_MINUTE: '100000',
  // Handlers' own logs would drown the test report; the assertions read the recorded state.
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  POWERTOOLS_METRICS_DISABLED: 'true',
};

export interface ApiAnswer<Body = any> {
  status: number;
  body: Body;
  headers: Headers;
}

export interface StackFixture {
  stack: LocalStack;
  api: ApiClient;
  /** A client acting as another user. */
  apiAs(userId: string): Promise<ApiClient>;
  stop(): Promise<void>;
}

export class ApiClient {
  readonly #baseUrl: string;
  readonly #token: string | undefined;

  constructor(baseUrl: string, token: string | undefined) {
    this.#baseUrl = baseUrl;
    this.#token = token;
  }

  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer> {
    const response = await fetch(`${this.#baseUrl}${path}`, {
      method,
      headers: {
        ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }

  deploy(body: unknown, headers?: Record<string, string>) {
    return this.request('POST', '/deployments', body, headers);
  }

  get(deploymentId: string) {
    return this.request('GET', `/deployments/${deploymentId}`);
  }

  delete(deploymentId: string) {
    return this.request('DELETE', `/deployments/${deploymentId}`);
  }

  /** Polls the deployment until its status is one of `statuses`. */
  async waitForStatus(deploymentId: string, statuses: string[], timeoutMs = 30_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    let last: ApiAnswer | undefined;
    while (Date.now() < deadline) {
      last = await this.get(deploymentId);
      if (statuses.includes(last.body?.status)) return last.body;
      await sleep(100);
    }
    throw new Error(`deployment ${deploymentId} did not reach ${statuses.join('|')}; last: ${JSON.stringify(last?.body)}`);
  }
}

export async function startStackFixture(options: LocalStackOptions = {}): Promise<StackFixture> {
  const stack = await startLocalStack({
    synthesized: inject('synthesizedStack'),
    probeIntervalMs: 200,
    retryIntervalMs: 20,
    ...options,
    environment: { ...TEST_ENVIRONMENT, ...options.environment },
  });
  const apiAs = async (userId: string) => new ApiClient(stack.apiUrl, await stack.issueToken(userId));
  return { stack, api: await apiAs('test-user'), apiAs, stop: () => stack.stop() };
}

/**
 * Sandboxes the local host still runs for a deployment, polled until none is left or the
 * deadline: for a deployment not yet ended (a terminal record means its sandbox is gone already).
 */
export async function sandboxesLeftBy(stack: LocalStack, deploymentId: string, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  while (liveSandboxesOf(stack, deploymentId).length > 0 && Date.now() < deadline) await sleep(20);
  return liveSandboxesOf(stack, deploymentId);
}

/** Sandboxes the local host still runs for a deployment. */
export function liveSandboxesOf(stack: LocalStack, deploymentId: string): string[] {
  return (stack.sandboxHost?.registry.list() ?? [])
    .filter((sandbox) => sandbox.metadata.deploymentId === deploymentId)
    .map((sandbox) => sandbox.fullId);
}
