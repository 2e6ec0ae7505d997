/**
 * One health probe of an app: GET the health path (5 s timeout), falling back to `/` when the
 * app has no such route. Healthy means 2xx or 3xx.
 */
import { sameOriginUrl } from './health-path.ts';

export interface ProbeResult {
  healthy: boolean;
  /** The path that answered last. */
  path: string;
  statusCode?: number;
  latencyMs: number;
  error?: string;
  /** The first bytes of an unhealthy answer's body (what the app or the proxy said). */
  bodyPreview?: string;
}

const BODY_PREVIEW_BYTES = 300;

export interface ProbeOptions {
  timeoutMs?: number;
  userAgent?: string;
  fetch?: typeof fetch;
}

export const HEALTH_USER_AGENT = 'CodeRunner-HealthCheck/1.0';

export async function probeApp(baseUrl: string, healthPath: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const first = await probeOnce(baseUrl, healthPath, options);
  if (first.statusCode === 404 && healthPath !== '/') return probeOnce(baseUrl, '/', options);
  return first;
}

async function probeOnce(baseUrl: string, path: string, options: ProbeOptions): Promise<ProbeResult> {
  const started = performance.now();
  const doFetch = options.fetch ?? fetch;
  try {
    // Only ever the sandbox's own port: a path that names another host is refused, not followed.
    const response = await doFetch(sameOriginUrl(baseUrl, path), {
      redirect: 'manual',
      headers: { 'user-agent': options.userAgent ?? HEALTH_USER_AGENT },
      signal: AbortSignal.timeout(options.timeoutMs ?? 5_000),
    });
    const healthy = response.status >= 200 && response.status < 400;
    const bodyPreview = healthy ? undefined : await readPreview(response);
    if (healthy) await response.body?.cancel();
    const latencyMs = Math.round(performance.now() - started);
    return { healthy, path, statusCode: response.status, latencyMs, ...(bodyPreview ? { bodyPreview } : {}) };
  } catch (error) {
    const latencyMs = Math.round(performance.now() - started);
    const reason = error instanceof Error && error.name === 'TimeoutError' ? 'timed out' : describeFetchError(error);
    return { healthy: false, path, latencyMs, error: reason };
  }
}

/** Up to BODY_PREVIEW_BYTES of the body as text; the rest is never read. */
async function readPreview(response: Response): Promise<string | undefined> {
  const reader = response.body?.getReader();
  if (!reader) return undefined;
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < BODY_PREVIEW_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // a body cut short still shows what arrived
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = new TextDecoder().decode(Buffer.concat(chunks).subarray(0, BODY_PREVIEW_BYTES)).replace(/\s+/g, ' ').trim();
  return text || undefined;
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

export function describeProbe(result: ProbeResult): string {
  if (result.statusCode !== undefined) return `GET ${result.path} answered ${result.statusCode}`;
  return `GET ${result.path} failed: ${result.error}`;
}
