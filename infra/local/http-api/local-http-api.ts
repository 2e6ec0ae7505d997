/**
 * A local API Gateway HTTP API: one HTTP server that routes requests to Lambda handlers running
 * in this process, with the cloud's JWT authorizer, payload 2.0 events, limits and error answers,
 * so `npm start` exercises the same handler code paths as AWS.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';
import type { JWTPayload } from 'jose';
import { fromHttpApiResult, toHttpApiEvent, type HttpApiResponse } from './api-gateway-event.ts';
import { isPreflight, preflightHeaders, withCorsHeaders, type CorsOptions } from './cors.ts';
import { createLambdaContext } from '../lambda-context.ts';
import { functionNameForRoute } from './route-function-name.ts';
import { JwtRejectedError } from './local-jwt.ts';
import { createRouteTable, decodePathSegment, type RouteTable } from './route-matcher.ts';

export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;
/** API Gateway's hard limit for an HTTP API integration. */
export const DEFAULT_INTEGRATION_TIMEOUT_MS = 30_000;
/** Lambda's limit for a synchronous invocation's response; over it the invocation fails. */
export const LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024;

/**
 * Any Lambda handler, called with a payload 2.0 event and a context. The event parameter is
 * `never` so that handlers typed for what their middlewares make of the event (a middy handler
 * with a parsed JSON body, say) register without casts.
 */
export type HttpApiHandler = (event: never, context: Context) => unknown;

export interface HttpApiRoute {
  /** `'POST /deployments'`, `'GET /deployments/{id}'`, `'ANY /files/{proxy+}'` or `'$default'`. */
  routeKey: string;
  handler: HttpApiHandler;
  /** Routes sit behind the JWT authorizer unless marked `'none'`. */
  auth?: 'jwt' | 'none';
  /** The route's authorizationScopes: the token needs at least one of them. */
  scopes?: string[];
  /** The Lambda function name the context reports. */
  functionName?: string;
  /** The function's own timeout, which `getRemainingTimeInMillis()` counts down; defaults to the integration timeout. */
  timeoutMs?: number;
}

export interface JwtVerifier {
  /** Resolves with the claims of a valid token; rejects otherwise. */
  verify(token: string): Promise<JWTPayload>;
}

export interface LocalHttpApiOptions {
  routes: HttpApiRoute[];
  /** Required when any route uses the JWT authorizer. */
  jwt?: JwtVerifier;
  port?: number;
  host?: string;
  maxBodyBytes?: number;
  /** API Gateway's built-in CORS; without it `OPTIONS` is routed like any other method. */
  cors?: CorsOptions;
  integrationTimeoutMs?: number;
  stage?: string;
  apiId?: string;
  accountId?: string;
  region?: string;
  /** Where gateway-side errors are reported; stderr by default. */
  log?: (message: string) => void;
}

export interface LocalHttpApi {
  readonly url: string;
  readonly port: number;
  /** Stops accepting connections and resolves once in-flight requests are answered. */
  close(): Promise<void>;
}

interface Gateway {
  routes: RouteTable<HttpApiRoute>;
  jwt?: JwtVerifier;
  cors?: CorsOptions;
  maxBodyBytes: number;
  integrationTimeoutMs: number;
  stage: string;
  apiId?: string;
  accountId?: string;
  region?: string;
  log: (message: string) => void;
}

export async function startLocalHttpApi(options: LocalHttpApiOptions): Promise<LocalHttpApi> {
  const gateway = createGateway(options);
  const server = createServer((request, response) => {
    handleRequest(gateway, request, response).catch((error: unknown) => {
      gateway.log(`local-http-api: unexpected failure: ${describeError(error)}`);
      if (!response.headersSent) sendGatewayError(response, 500, createRequestId());
      else response.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

function createGateway(options: LocalHttpApiOptions): Gateway {
  const needsJwt = options.routes.some((route) => (route.auth ?? 'jwt') === 'jwt');
  if (needsJwt && !options.jwt) throw new Error('routes use the JWT authorizer but no `jwt` verifier was given');
  return {
    routes: createRouteTable(options.routes.map((route) => ({ routeKey: route.routeKey, value: route }))),
    jwt: options.jwt,
    cors: options.cors,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    integrationTimeoutMs: options.integrationTimeoutMs ?? DEFAULT_INTEGRATION_TIMEOUT_MS,
    stage: options.stage ?? '$default',
    apiId: options.apiId,
    accountId: options.accountId,
    region: options.region,
    log: options.log ?? ((message) => process.stderr.write(`${message}\n`)),
  };
}

async function handleRequest(gateway: Gateway, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const requestId = createRequestId();
  const receivedAt = new Date();
  const method = request.method ?? 'GET';
  const { rawPath, rawQueryString } = splitTarget(request.url ?? '/');
  const headers = collectHeaders(request);

  if (gateway.cors && isPreflight(method, headers)) {
    return send(response, { status: 204, headers: preflightHeaders(gateway.cors, headers.origin), body: Buffer.alloc(0) }, requestId);
  }
  if (Number(headers['content-length'] ?? 0) > gateway.maxBodyBytes) return sendGatewayError(response, 413, requestId);

  const match = gateway.routes.match(method, rawPath);
  if (!match) return sendGatewayError(response, 404, requestId);
  const route = match.route.value;

  const authorization = (route.auth ?? 'jwt') === 'jwt' ? await authorize(gateway, route, headers.authorization) : undefined;
  if (authorization && !authorization.ok) return sendGatewayError(response, authorization.status, requestId, authorization.headers);

  const body = await readBody(request, gateway.maxBodyBytes);
  if (!body) return sendGatewayError(response, 413, requestId);

  const event = toHttpApiEvent({
    method,
    rawPath: decodePathSegment(rawPath),
    rawQueryString,
    headers: withForwardingHeaders(headers, request),
    body,
    sourceIp: sourceIpOf(request),
    routeKey: match.route.routeKey,
    pathParameters: match.pathParameters,
    stage: gateway.stage,
    requestId,
    receivedAt,
    jwtClaims: authorization?.claims,
    apiId: gateway.apiId,
    accountId: gateway.accountId,
    protocol: `HTTP/${request.httpVersion}`,
  });
  const answer = await invokeRoute(gateway, route, event as APIGatewayProxyEventV2WithJWTAuthorizer);
  if (!answer) return sendGatewayError(response, 500, requestId);
  if ('gatewayStatus' in answer) return sendGatewayError(response, answer.gatewayStatus, requestId);
  const answerHeaders = gateway.cors ? withCorsHeaders(gateway.cors, headers.origin, answer.headers) : answer.headers;
  return send(response, { ...answer, headers: answerHeaders }, requestId, method === 'HEAD');
}

/** Calls the route's handler as Lambda would; resolves the response, or the gateway status that replaces it. */
async function invokeRoute(
  gateway: Gateway,
  route: HttpApiRoute,
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
): Promise<HttpApiResponse | { gatewayStatus: 500 | 503 } | undefined> {
  const functionTimeoutMs = route.timeoutMs ?? gateway.integrationTimeoutMs;
  const context = createLambdaContext({
    functionName: route.functionName ?? functionNameForRoute(route.routeKey),
    timeoutMs: functionTimeoutMs,
    region: gateway.region,
    accountId: gateway.accountId,
  });
  const outcome = await invokeWithTimeouts(route.handler, event, context, {
    functionTimeoutMs,
    integrationTimeoutMs: gateway.integrationTimeoutMs,
  });
  const invocation = `${route.routeKey} (${context.awsRequestId})`;
  switch (outcome.kind) {
    case 'result':
      return toGatewayResponse(gateway, route, outcome.value);
    case 'error':
      gateway.log(`local-http-api: ${invocation} failed: ${describeError(outcome.error)}`);
      return { gatewayStatus: 500 };
    case 'timeout':
      if (outcome.by === 'integration') {
        gateway.log(`local-http-api: ${invocation} passed the ${gateway.integrationTimeoutMs} ms integration timeout`);
        return { gatewayStatus: 503 };
      }
      gateway.log(`local-http-api: ${invocation} Task timed out after ${functionTimeoutMs} ms (the function's own timeout)`);
      return { gatewayStatus: 500 };
  }
}

type Authorization =
  | { ok: true; claims: JWTPayload }
  | { ok: false; status: 401 | 403; headers: Record<string, string> };

/** The JWT authorizer: the token may come with or without the `Bearer ` prefix, as in AWS. */
async function authorize(gateway: Gateway, route: HttpApiRoute, header: string | undefined): Promise<Authorization> {
  const token = header?.replace(/^Bearer\s+/i, '').trim();
  if (!token) return { ok: false, status: 401, headers: { 'www-authenticate': 'Bearer' } };
  let claims: JWTPayload;
  try {
    claims = await gateway.jwt!.verify(token);
  } catch (error) {
    const description = error instanceof JwtRejectedError ? error.description : 'the token is invalid';
    return { ok: false, status: 401, headers: { 'www-authenticate': bearerChallenge('invalid_token', description) } };
  }
  if (route.scopes?.length && !hasAnyScope(claims, route.scopes)) {
    const challenge = bearerChallenge('insufficient_scope', `expected scopes: [${route.scopes.join(' ')}]`, route.scopes);
    return { ok: false, status: 403, headers: { 'www-authenticate': challenge } };
  }
  return { ok: true, claims };
}

function bearerChallenge(error: string, description: string, scopes: string[] = []): string {
  return `Bearer scope="${scopes.join(' ')}" error="${error}" error_description="${description.replaceAll('"', "'")}"`;
}

function hasAnyScope(claims: JWTPayload, required: string[]): boolean {
  const raw = claims.scope ?? claims.scp;
  const granted = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? raw.map(String) : [];
  return required.some((scope) => granted.includes(scope));
}

type InvocationOutcome =
  | { kind: 'result'; value: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'timeout'; by: 'function' | 'integration' };

/**
 * Runs the handler against two clocks: the function's own timeout (Lambda fails the invocation,
 * so the gateway answers 500) and the integration timeout (the gateway gives up with 503). A late
 * handler keeps running in this process; only its answer is ignored.
 */
async function invokeWithTimeouts(
  handler: HttpApiHandler,
  event: APIGatewayProxyEventV2WithJWTAuthorizer,
  context: Context,
  limits: { functionTimeoutMs: number; integrationTimeoutMs: number },
): Promise<InvocationOutcome> {
  const timers: NodeJS.Timeout[] = [];
  const timeoutAfter = (ms: number, by: 'function' | 'integration') =>
    new Promise<InvocationOutcome>((resolve) => {
      timers.push(setTimeout(() => resolve({ kind: 'timeout', by }), ms));
    });
  const invocation = (async (): Promise<InvocationOutcome> => {
    try {
      return { kind: 'result', value: await handler(event as never, context) };
    } catch (error) {
      return { kind: 'error', error };
    }
  })();
  try {
    return await Promise.race([
      invocation,
      timeoutAfter(limits.integrationTimeoutMs, 'integration'),
      timeoutAfter(limits.functionTimeoutMs, 'function'),
    ]);
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}

/** Lambda hands API Gateway JSON, so the result goes through JSON as it would in AWS (dates, undefined, toJSON). */
function toGatewayResponse(gateway: Gateway, route: HttpApiRoute, value: unknown): HttpApiResponse | undefined {
  try {
    const wire = JSON.stringify(value ?? null);
    if (Buffer.byteLength(wire) > LAMBDA_RESPONSE_LIMIT_BYTES) {
      throw new Error(`the response is ${Buffer.byteLength(wire)} bytes, over Lambda's ${LAMBDA_RESPONSE_LIMIT_BYTES}-byte limit`);
    }
    const mapped = fromHttpApiResult(JSON.parse(wire));
    for (const warning of mapped.warnings) gateway.log(`local-http-api: ${route.routeKey}: ${warning}`);
    return mapped;
  } catch (error) {
    gateway.log(`local-http-api: ${route.routeKey} returned a response API Gateway cannot use: ${describeError(error)}`);
    return undefined;
  }
}

const GATEWAY_MESSAGES: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  413: 'Request Entity Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The gateway's own answers: `{"message": "..."}` as JSON, like AWS. */
function sendGatewayError(response: ServerResponse, status: number, requestId: string, headers: Record<string, string> = {}): void {
  const body = Buffer.from(JSON.stringify({ message: GATEWAY_MESSAGES[status] ?? 'Error' }));
  send(response, { status, headers: { 'content-type': 'application/json', ...headers }, body }, requestId);
}

function send(
  response: ServerResponse,
  answer: { status: number; headers: Record<string, string | string[]>; body: Buffer },
  requestId: string,
  omitBody = false,
): void {
  response.writeHead(answer.status, { ...answer.headers, 'apigw-requestid': requestId, 'content-length': answer.body.length });
  response.end(omitBody ? undefined : answer.body);
}

function splitTarget(target: string): { rawPath: string; rawQueryString: string } {
  const queryAt = target.indexOf('?');
  if (queryAt === -1) return { rawPath: target, rawQueryString: '' };
  return { rawPath: target.slice(0, queryAt), rawQueryString: target.slice(queryAt + 1) };
}

// Connection-level headers end at the gateway and never reach the integration.
const HOP_BY_HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** Lowercased headers with repeats joined by `,` as in payload 2.0 (`cookie` by `; `, so it still splits into cookies). */
function collectHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  const raw = request.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index]!.toLowerCase();
    const value = raw[index + 1]!;
    if (HOP_BY_HOP_HEADERS.has(name)) continue;
    const separator = name === 'cookie' ? '; ' : ',';
    headers[name] = name in headers ? `${headers[name]}${separator}${value}` : value;
  }
  return headers;
}

/** The headers API Gateway adds on the way to the integration. */
function withForwardingHeaders(headers: Record<string, string>, request: IncomingMessage): Record<string, string> {
  const sourceIp = sourceIpOf(request);
  return {
    ...headers,
    'x-amzn-trace-id': headers['x-amzn-trace-id'] ?? createTraceId(),
    'x-forwarded-for': headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${sourceIp}` : sourceIp,
    'x-forwarded-port': String(request.socket.localPort ?? ''),
    'x-forwarded-proto': 'http',
  };
}

function sourceIpOf(request: IncomingMessage): string {
  return (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
}

/**
 * Reads the body, or resolves `undefined` as soon as it passes the limit. The rest is still
 * consumed and discarded (not left unread, which would reset the connection before the client
 * sees the 413).
 */
function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      request.off('data', onData);
      request.resume();
      resolve(undefined);
    };
    request.on('data', onData);
    request.once('end', () => resolve(Buffer.concat(chunks)));
    request.once('error', reject);
  });
}

/** Shaped like AWS's `apigw-requestid` values, e.g. `JfX3Yj2QoAMEV2A=`. */
function createRequestId(): string {
  return randomBytes(11).toString('base64').replaceAll('+', 'A').replaceAll('/', 'B');
}

function createTraceId(): string {
  const epochHex = Math.floor(Date.now() / 1000).toString(16);
  return `Root=1-${epochHex}-${randomBytes(12).toString('hex')}`;
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
