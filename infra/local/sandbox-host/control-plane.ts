/**
 * The control plane (`https://api.<domain>`): create, list, get, kill and set the lifetime of
 * sandboxes, with the cloud's API-key check and JSON errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalSandbox } from './local-sandbox.ts';
import type { SandboxRegistry } from './sandbox-registry.ts';
import { HttpError, readBody, sendError, sendJson, sendNoContent } from './http-util.ts';
import { resolveLimits, SandboxLimitsError, type SandboxLimits } from './sandbox-limits.ts';

export const ENVD_VERSION = '0.2.0';
const DEFAULT_TEMPLATE = 'base';

export interface ControlPlaneOptions {
  registry: SandboxRegistry;
  apiKey: string;
  /** Upper bound for a sandbox's lifetime, like the cloud's plan limit. */
  maxLifetimeMs: number;
}

export async function handleControlPlane(options: ControlPlaneOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const { registry } = options;
  if (request.headers['x-api-key'] !== options.apiKey) {
    return sendError(response, 401, 'Invalid API key, it must start with "as_" prefix or match the configured key');
  }
  const url = new URL(request.url ?? '/', 'http://control-plane');
  const segments = url.pathname.split('/').filter(Boolean);
  const method = request.method ?? 'GET';

  if (segments[0] !== 'sandboxes') return sendError(response, 404, `no route ${method} ${url.pathname}`);
  if (segments.length === 1 && method === 'POST') return createSandbox(options, request, response);
  if (segments.length === 1 && method === 'GET') {
    const filter = parseMetadataFilter(url.searchParams.get('metadata'));
    const state = url.searchParams.get('state');
    const found = state && state !== 'running' ? [] : registry.list().filter((sandbox) => matches(sandbox, filter));
    return sendJson(response, 200, found.map(listedSandbox));
  }

  const sandbox = registry.get(segments[1] ?? '');
  if (!sandbox) return sendError(response, 404, `sandbox "${segments[1]}" not found`);
  if (segments.length === 2 && method === 'GET') return sendJson(response, 200, detailedSandbox(sandbox));
  if (segments.length === 2 && method === 'DELETE') {
    await registry.kill(sandbox.sandboxId);
    return sendNoContent(response);
  }
  if (segments.length === 3 && segments[2] === 'timeout' && method === 'POST') {
    const body = await readJson(request);
    const seconds = Number(body.timeout);
    if (!Number.isFinite(seconds) || seconds < 0) return sendError(response, 400, 'timeout must be a number of seconds');
    registry.setLifetime(sandbox, Math.min(seconds * 1000, options.maxLifetimeMs));
    return sendNoContent(response);
  }
  return sendError(response, 404, `no route ${method} ${url.pathname}`);
}

async function createSandbox(options: ControlPlaneOptions, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const body = await readJson(request);
  const seconds = body.timeout === undefined ? 300 : Number(body.timeout);
  if (!Number.isFinite(seconds) || seconds <= 0) return sendError(response, 400, 'timeout must be a positive number of seconds');
  const templateId = typeof body.templateID === 'string' ? body.templateID : DEFAULT_TEMPLATE;
  let limits: SandboxLimits;
  try {
    // `limits` is a local extension of the create call, for tests and operators.
    limits = resolveLimits(templateId, body.limits);
  } catch (error) {
    if (error instanceof SandboxLimitsError) return sendError(response, 400, error.message);
    throw error;
  }
  const sandbox = await options.registry.create({
    templateId,
    metadata: stringRecord(body.metadata),
    envVars: stringRecord(body.envVars),
    lifetimeMs: Math.min(seconds * 1000, options.maxLifetimeMs),
    secure: body.secure === true,
    limits,
  });
  sendJson(response, 201, {
    sandboxID: sandbox.sandboxId,
    clientID: sandbox.clientId,
    templateID: sandbox.templateId,
    envdVersion: ENVD_VERSION,
    ...(sandbox.accessToken ? { envdAccessToken: sandbox.accessToken } : {}),
  });
}

/**
 * The SDK sends `metadata=<k>=<v>&...` with keys and values URI-encoded, and the whole string
 * encoded again as one query value; `searchParams` undoes the outer layer.
 */
export function parseMetadataFilter(raw: string | null): Record<string, string> {
  if (!raw) return {};
  const filter: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(raw)) filter[decodeURIComponent(key)] = decodeURIComponent(value);
  return filter;
}

function matches(sandbox: LocalSandbox, filter: Record<string, string>): boolean {
  return Object.entries(filter).every(([key, value]) => sandbox.metadata[key] === value);
}

function listedSandbox(sandbox: LocalSandbox) {
  return {
    sandboxID: sandbox.sandboxId,
    clientID: sandbox.clientId,
    templateID: sandbox.templateId,
    startedAt: sandbox.startedAt.toISOString(),
    endAt: sandbox.endAt.toISOString(),
    cpuCount: Math.max(1, Math.ceil(sandbox.limits.cpus)),
    memoryMB: Math.round(sandbox.limits.memoryBytes / (1024 * 1024)),
    metadata: sandbox.metadata,
    state: 'running',
  };
}

function detailedSandbox(sandbox: LocalSandbox) {
  return {
    ...listedSandbox(sandbox),
    envdVersion: ENVD_VERSION,
    ...(sandbox.accessToken ? { envdAccessToken: sandbox.accessToken } : {}),
  };
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(request);
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
  return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
}

function stringRecord(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object') return {};
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, String(item)]));
}
