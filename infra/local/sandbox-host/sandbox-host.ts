/**
 * The local sandbox host: one HTTP server that answers for every AgentSphere host name the SDK
 * uses, routed by the Host header:
 * - `api.<domain>`: the control plane;
 * - `49983-<sandboxId>.<domain>`: the sandbox daemon;
 * - `<port>-<sandboxId>.<domain>`: an app port inside the sandbox;
 * - anything else (e.g. `127.0.0.1:<port>`): the host's own operator API under `/_host/`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { handleControlPlane } from './control-plane.ts';
import { ENVD_PORT, handleDaemon } from './envd.ts';
import { FaultInjector, type FaultRule, type FaultTarget } from './fault-injector.ts';
import { HttpError, readBody, sendError, sendJson, sendNoContent } from './http-util.ts';
import { SandboxEndedError, type ProcessLauncher, type ProtectionReport } from './process-launcher.ts';
import { proxyHttp, proxyUpgrade } from './port-proxy.ts';
import { SandboxRegistry } from './sandbox-registry.ts';
import { createLauncher, describeProtections, type IsolationMode } from './sandbox-isolation.ts';

export const DEFAULT_LOCAL_DOMAIN = 'agentsphere.test';

export interface SandboxHostOptions {
  /** Directory for sandbox trees and the host's lock; a crashed run's leftovers are cleaned here. */
  stateDir: string;
  /** Loopback port to listen on; 0 picks a free one. */
  port?: number;
  domain?: string;
  /** The API key the control plane accepts; a random one by default. */
  apiKey?: string;
  /** Which launcher runs sandboxes (default `bubblewrap`, real isolation); ignored when `launcher` is given. */
  isolation?: IsolationMode;
  /** `host:port` pairs sandboxes may reach through the egress proxy (default: the npm registry). */
  egressAllowList?: readonly string[];
  launcher?: ProcessLauncher;
  /** Upper bound for any sandbox's lifetime. */
  maxLifetimeMs?: number;
  /** The key the operator API (`/_host/*`) requires as `Authorization: Bearer <key>`; random by default. */
  operatorKey?: string;
  /** Where the start-up report of protections goes (default: stderr). */
  announce?: (lines: string[]) => void;
}

export interface SandboxHost {
  readonly url: string;
  readonly port: number;
  readonly domain: string;
  readonly apiKey: string;
  /** What `/_host/*` requires (`Authorization: Bearer <key>`). */
  readonly operatorKey: string;
  /** What the launcher protects on this machine, and what is off. */
  readonly protections: ProtectionReport;
  readonly registry: SandboxRegistry;
  readonly faults: FaultInjector;
  /**
   * The domain the SDK is configured with: the host's domain with its port, so that app URLs
   * (`http://<port>-<id>.<domain>:<host port>/`) reach this host from a browser or curl when the
   * domain is under `.localhost`, which resolves to loopback.
   */
  readonly sdkDomain: string;
  /** Environment that points the AgentSphere SDK (and our adapter) at this host. */
  readonly sdkEnv: Record<string, string>;
  /** A URL a person can open in a browser on this machine for a sandbox's port. */
  browserUrl(sandboxId: string, port: number): Promise<string>;
  /** Kills every sandbox and stops listening. */
  close(): Promise<void>;
}

export async function startSandboxHost(options: SandboxHostOptions): Promise<SandboxHost> {
  const domain = options.domain ?? DEFAULT_LOCAL_DOMAIN;
  const apiKey = options.apiKey ?? `as_local_${randomBytes(12).toString('hex')}`;
  const operatorKey = options.operatorKey ?? `op_local_${randomBytes(16).toString('hex')}`;
  await mkdir(options.stateDir, { recursive: true });
  await claimStateDir(options.stateDir);
  const launcher = options.launcher ?? createLauncher({ isolation: options.isolation ?? 'bubblewrap', ...(options.egressAllowList ? { egressAllowList: options.egressAllowList } : {}) });
  const protections = await launcher.prepare();
  (options.announce ?? ((lines) => console.error(lines.join('\n'))))(describeProtections(protections));
  const registry = new SandboxRegistry({ stateDir: options.stateDir, launcher });
  await registry.recoverFromCrash();
  const faults = new FaultInjector();
  const controlPlane = { registry, apiKey, maxLifetimeMs: options.maxLifetimeMs ?? 24 * 3600_000 };
  const browserUrl = async (sandboxId: string, port: number) => {
    const sandbox = registry.get(sandboxId);
    if (!sandbox) throw new HttpError(404, `sandbox "${sandboxId}" not found`);
    return registry.browserPorts.url(sandbox, port);
  };

  const route = async (request: IncomingMessage, response: ServerResponse) => {
    const target = parseHost(request.headers.host, domain);
    const path = request.url ?? '/';
    const method = request.method ?? 'GET';
    if (target.kind === 'control-plane' || target.kind === 'daemon') {
      const fault = faults.take(target.kind, method, path);
      if (fault?.status) return sendError(response, fault.status, fault.message ?? `injected fault ${fault.status}`);
      if (fault?.delayMs) delayAnswer(response, fault.delayMs);
    }
    switch (target.kind) {
      case 'control-plane':
        return handleControlPlane(controlPlane, request, response);
      case 'daemon': {
        const sandbox = registry.get(target.sandboxId);
        sandbox?.stats.countRequest(method, path);
        return handleDaemon(sandbox, request, response);
      }
      case 'app-port':
        return proxyHttp(registry.get(target.sandboxId), target.port, request, response);
      case 'operator':
        if (!hasOperatorKey(request, operatorKey)) return sendError(response, 401, 'the operator API needs the host operator key (Authorization: Bearer <key>)');
        return handleOperator({ registry, faults, browserUrl }, request, response);
    }
  };

  const server = createServer((request, response) => {
    route(request, response).catch((error: unknown) => {
      if (response.headersSent) return void response.destroy();
      if (error instanceof HttpError) return sendError(response, error.status, error.message);
      // Killed (or its agent died) while this request was on its way: gone, as the cloud answers.
      if (error instanceof SandboxEndedError) return sendError(response, 502, 'sandbox not found or no longer running');
      console.error('[sandbox-host]', error);
      sendError(response, 500, error instanceof Error ? error.message : String(error));
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const target = parseHost(request.headers.host, domain);
    if (target.kind !== 'app-port') return void socket.destroy();
    proxyUpgrade(registry.get(target.sandboxId), target.port, request, socket, head);
  });
  const port = await listen(server, options.port ?? 0);
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    domain,
    apiKey,
    operatorKey,
    protections,
    registry,
    faults,
    sdkDomain: `${domain}:${port}`,
    sdkEnv: { AGENTSPHERE_API_KEY: apiKey, AGENTSPHERE_DOMAIN: `${domain}:${port}`, CODERUNNER_SANDBOX_HOST_URL: url },
    browserUrl,
    async close() {
      await registry.killAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(join(options.stateDir, LOCK_FILE), { force: true });
    },
  };
}

/** Lets the request be handled now but holds the answer back (writeHead and end are deferred). */
function delayAnswer(response: ServerResponse, delayMs: number): void {
  const release = new Promise((resolve) => setTimeout(resolve, delayMs));
  const writeHead = response.writeHead.bind(response);
  const end = response.end.bind(response);
  let head: Parameters<typeof response.writeHead> | undefined;
  response.writeHead = ((...args: Parameters<typeof response.writeHead>) => {
    head = args;
    return response;
  }) as typeof response.writeHead;
  response.end = ((...args: Parameters<typeof response.end>) => {
    void release.then(() => {
      if (head) writeHead(...head);
      (end as (...items: unknown[]) => void)(...args);
    });
    return response;
  }) as typeof response.end;
}

type HostTarget =
  | { kind: 'control-plane' }
  | { kind: 'daemon'; sandboxId: string }
  | { kind: 'app-port'; sandboxId: string; port: number }
  | { kind: 'operator' };

export function parseHost(hostHeader: string | undefined, domain: string): HostTarget {
  const hostname = (hostHeader ?? '').replace(/:\d+$/, '').toLowerCase();
  if (hostname === `api.${domain}`) return { kind: 'control-plane' };
  if (hostname.endsWith(`.${domain}`)) {
    const label = hostname.slice(0, -domain.length - 1);
    const match = /^(\d+)-([a-z0-9]+(?:-[a-z0-9]+)?)$/.exec(label);
    if (match) {
      const port = Number(match[1]);
      const sandboxId = match[2]!;
      return port === ENVD_PORT ? { kind: 'daemon', sandboxId } : { kind: 'app-port', sandboxId, port };
    }
  }
  return { kind: 'operator' };
}

interface OperatorContext {
  registry: SandboxRegistry;
  faults: FaultInjector;
  browserUrl(sandboxId: string, port: number): Promise<string>;
}

/** What operators and tests ask the host directly (never part of the AgentSphere protocol). */
async function handleOperator({ registry, faults, browserUrl }: OperatorContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://operator');
  const segments = url.pathname.split('/').filter(Boolean);
  const method = request.method ?? 'GET';
  if (segments[0] !== '_host') throw new HttpError(404, 'this is the local sandbox host; see /_host/sandboxes');
  if (segments[1] === 'health') return sendJson(response, 200, { ok: true, sandboxes: registry.list().length });
  if (segments[1] === 'sandboxes' && segments.length === 2 && method === 'GET') {
    return sendJson(response, 200, registry.list().map((sandbox) => ({
      sandboxId: sandbox.fullId,
      metadata: sandbox.metadata,
      startedAt: sandbox.startedAt.toISOString(),
      endAt: sandbox.endAt.toISOString(),
      rootDir: sandbox.rootDir,
      stats: sandbox.stats,
      processes: [...sandbox.processes.values()].map((process) => ({
        pid: process.pid,
        command: process.config.args.at(-1) ?? process.config.cmd,
        deadlineMs: process.deadlineMs,
        startedAt: process.startedAt.toISOString(),
      })),
    })));
  }
  if (segments[1] === 'sandboxes' && segments[3] === 'ports' && segments.length === 5 && method === 'GET') {
    return sendJson(response, 200, { url: await browserUrl(segments[2]!, Number(segments[4])) });
  }
  if (segments[1] === 'faults' && method === 'POST') {
    faults.add(parseFaultRule(await readBody(request, 64 * 1024)));
    return sendNoContent(response);
  }
  if (segments[1] === 'faults' && method === 'DELETE') {
    faults.clear();
    return sendNoContent(response);
  }
  throw new HttpError(404, `no route ${method} ${url.pathname}`);
}

/** A fault rule from an operator's JSON body; anything malformed is a 400, never a crash. */
function parseFaultRule(body: Buffer): FaultRule {
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the fault rule is not valid JSON');
  }
  const rule = (raw && typeof raw === 'object' && !Array.isArray(raw) ? raw : {}) as Record<string, unknown>;
  const optionalNumber = (field: string, min: number, max: number): number | undefined => {
    const value = rule[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new HttpError(400, `${field} must be an integer from ${min} to ${max}`);
    return value;
  };
  const optionalString = (field: string): string | undefined => {
    const value = rule[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.length > 1000) throw new HttpError(400, `${field} must be a string`);
    return value;
  };
  const target = rule.target as FaultTarget;
  const status = optionalNumber('status', 100, 599);
  const delayMs = optionalNumber('delayMs', 1, 600_000);
  if (!(['control-plane', 'daemon'] as FaultTarget[]).includes(target) || !(status || delayMs)) {
    throw new HttpError(400, 'a fault needs target (control-plane|daemon) and status or delayMs');
  }
  const method = optionalString('method');
  const pathIncludes = optionalString('pathIncludes');
  const message = optionalString('message');
  return {
    target,
    times: optionalNumber('times', 1, 1_000_000) ?? 1,
    ...(status ? { status } : {}),
    ...(delayMs ? { delayMs } : {}),
    ...(method ? { method } : {}),
    ...(pathIncludes ? { pathIncludes } : {}),
    ...(message ? { message } : {}),
  };
}

function hasOperatorKey(request: IncomingMessage, operatorKey: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '');
  const expected = Buffer.from(operatorKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const LOCK_FILE = 'host.pid';

/** One host per state directory: a second one would reap the first one's sandboxes. */
async function claimStateDir(stateDir: string): Promise<void> {
  const lock = join(stateDir, LOCK_FILE);
  const owner = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
  if (owner && owner !== process.pid && isAlive(owner)) {
    throw new Error(`another sandbox host (pid ${owner}) is using ${stateDir}`);
  }
  await writeFile(lock, `${process.pid}\n`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
