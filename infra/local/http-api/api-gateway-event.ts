/**
 * Translation between an HTTP request/response and the Lambda side of an API Gateway HTTP API
 * integration with payload format 2.0, following what AWS actually sends and accepts (including
 * the parts the docs leave out, noted where they matter).
 */
import type {
  APIGatewayEventRequestContextJWTAuthorizer,
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithJWTAuthorizer,
} from 'aws-lambda';
import type { JWTPayload } from 'jose';

export const DEFAULT_STAGE = '$default';
export const DEFAULT_API_ID = 'local';
export const DEFAULT_ACCOUNT_ID = '000000000000';

export interface HttpApiRequest {
  method: string;
  /** The path as the event shows it (HTTP APIs deliver it percent-decoded). */
  rawPath: string;
  /** The query string without `?`, exactly as sent. */
  rawQueryString: string;
  /** Lowercased names; repeated headers joined with `,`. A `cookie` header is moved into `cookies`. */
  headers: Record<string, string>;
  /** Overrides the cookies parsed from the `cookie` header. */
  cookies?: string[];
  body: Buffer;
  sourceIp: string;
  /** `'POST /deployments'`, `'ANY /{proxy+}'` or `'$default'`. */
  routeKey: string;
  pathParameters?: Record<string, string>;
  stage?: string;
  requestId: string;
  /** The verified token's claims; present only on routes behind the JWT authorizer. */
  jwtClaims?: JWTPayload;
  /** Defaults to the token's `scope`/`scp` claim; `null` when it has none, as AWS sends it. */
  scopes?: string[] | null;
  apiId?: string;
  accountId?: string;
  /** Defaults to the `host` header, so URLs a handler builds from it point back at the local server. */
  domainName?: string;
  protocol?: string;
  /** When API Gateway received the request; defaults to now. */
  receivedAt?: Date;
}

export interface HttpApiResponse {
  status: number;
  /** Lowercased names; `set-cookie` is the only multi-valued one. */
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Parts of the Lambda's answer API Gateway would silently drop, worth telling the developer about. */
  warnings: string[];
}

/** A Lambda answer API Gateway cannot turn into a response; it answers 500 Internal Server Error for these. */
export class MalformedLambdaResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedLambdaResponseError';
  }
}

export function toHttpApiEvent(request: HttpApiRequest & { jwtClaims: JWTPayload }): APIGatewayProxyEventV2WithJWTAuthorizer;
export function toHttpApiEvent(request: HttpApiRequest): APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer;
export function toHttpApiEvent(request: HttpApiRequest): APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer {
  const { cookie, ...headers } = request.headers;
  const cookies = request.cookies ?? parseCookieHeader(cookie);
  const queryStringParameters = parseQueryString(request.rawQueryString);
  const body = encodeBody(request.body, headers['content-type']);
  const event: APIGatewayProxyEventV2 | APIGatewayProxyEventV2WithJWTAuthorizer = {
    version: '2.0',
    routeKey: request.routeKey,
    rawPath: request.rawPath,
    rawQueryString: request.rawQueryString,
    ...(cookies.length > 0 && { cookies }),
    headers,
    ...(queryStringParameters && { queryStringParameters }),
    requestContext: buildRequestContext(request, headers),
    ...(body.text !== undefined && { body: body.text }),
    ...(hasEntries(request.pathParameters) && { pathParameters: request.pathParameters }),
    isBase64Encoded: body.isBase64Encoded,
  };
  return event;
}

function buildRequestContext(request: HttpApiRequest, headers: Record<string, string>) {
  const apiId = request.apiId ?? DEFAULT_API_ID;
  const domainName = request.domainName ?? headers.host ?? `${apiId}.execute-api.us-east-1.amazonaws.com`;
  const receivedAt = request.receivedAt ?? new Date();
  return {
    accountId: request.accountId ?? DEFAULT_ACCOUNT_ID,
    apiId,
    ...(request.jwtClaims && { authorizer: toJwtAuthorizerContext(request.jwtClaims, request.scopes) }),
    domainName,
    domainPrefix: domainName.split('.')[0] ?? domainName,
    http: {
      method: request.method,
      path: request.rawPath,
      protocol: request.protocol ?? 'HTTP/1.1',
      sourceIp: request.sourceIp,
      userAgent: headers['user-agent'] ?? '',
    },
    requestId: request.requestId,
    routeKey: request.routeKey,
    stage: request.stage ?? DEFAULT_STAGE,
    time: formatRequestTime(receivedAt),
    timeEpoch: receivedAt.getTime(),
  };
}

export function toJwtAuthorizerContext(claims: JWTPayload, scopes?: string[] | null): APIGatewayEventRequestContextJWTAuthorizer {
  return {
    principalId: '',
    integrationLatency: 0,
    jwt: { claims: toAuthorizerClaims(claims), scopes: scopes === undefined ? scopesOf(claims) : scopes },
  };
}

/**
 * API Gateway hands claims over as strings: numbers and booleans are printed, and arrays come out
 * Go-style as `[a b]` (e.g. `cognito:groups`), not as JSON. Handlers must not expect `exp` as a number.
 */
export function toAuthorizerClaims(payload: JWTPayload): Record<string, string> {
  const claims: Record<string, string> = {};
  for (const [name, value] of Object.entries(payload)) {
    if (value !== undefined && value !== null) claims[name] = stringifyClaim(value);
  }
  return claims;
}

function stringifyClaim(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return `[${value.map(stringifyClaim).join(' ')}]`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}

/** The authorizer reads scopes from `scope` (space separated) or `scp`. */
function scopesOf(claims: JWTPayload): string[] | null {
  const raw = claims.scope ?? claims.scp;
  if (typeof raw === 'string') return raw.split(' ').filter(Boolean);
  if (Array.isArray(raw)) return raw.map(String);
  return null;
}

/** `12/Mar/2020:19:03:58 +0000`, the CLF-style time API Gateway puts in `requestContext.time`. */
export function formatRequestTime(date: Date): string {
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (value: number) => String(value).padStart(2, '0');
  const day = `${two(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}`;
  return `${day}:${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`;
}

function parseCookieHeader(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(';')
    .map((cookie) => cookie.trim())
    .filter(Boolean);
}

/** Decoded values; a repeated key's values joined with `,`; `undefined` when there is no query at all. */
export function parseQueryString(rawQueryString: string): Record<string, string> | undefined {
  if (!rawQueryString) return undefined;
  const parameters: Record<string, string> = {};
  for (const [key, value] of new URLSearchParams(rawQueryString)) {
    parameters[key] = key in parameters ? `${parameters[key]},${value}` : value;
  }
  return hasEntries(parameters) ? parameters : undefined;
}

/**
 * HTTP APIs pass a body as text only for `text/*`, JSON, XML and JavaScript; everything else,
 * including a missing content type and (surprisingly) form posts, arrives base64-encoded.
 */
export function isTextContentType(contentType: string | undefined): boolean {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  if (!mediaType) return false;
  return mediaType.startsWith('text/') || TEXT_MEDIA_TYPES.has(mediaType);
}

const TEXT_MEDIA_TYPES = new Set(['application/json', 'application/xml', 'application/javascript']);

function encodeBody(body: Buffer, contentType: string | undefined): { text?: string; isBase64Encoded: boolean } {
  if (body.length === 0) return { isBase64Encoded: false };
  if (isTextContentType(contentType) && isValidUtf8(body)) return { text: body.toString('utf8'), isBase64Encoded: false };
  return { text: body.toString('base64'), isBase64Encoded: true };
}

function isValidUtf8(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Maps what the Lambda returned to the HTTP response API Gateway sends. Payload 2.0 rules: an
 * object with `statusCode` is a structured response; anything else (object, array, string,
 * number, nothing) is sent as-is as a 200 JSON body.
 */
export function fromHttpApiResult(result: unknown): HttpApiResponse {
  if (!isStructuredResult(result)) return inferredResponse(result);
  return structuredResponse(result);
}

function isStructuredResult(result: unknown): result is Record<string, unknown> {
  return typeof result === 'object' && result !== null && !Array.isArray(result) && 'statusCode' in result;
}

function inferredResponse(result: unknown): HttpApiResponse {
  // The Node runtime serialises `undefined` as `null`; a string comes out JSON-quoted.
  const body = Buffer.from(JSON.stringify(result ?? null), 'utf8');
  return { status: 200, headers: { 'content-type': 'application/json' }, body, warnings: [] };
}

function structuredResponse(result: Record<string, unknown>): HttpApiResponse {
  const status = result.statusCode;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new MalformedLambdaResponseError(`statusCode must be an integer HTTP status, got ${JSON.stringify(status)}`);
  }
  const headers: HttpApiResponse['headers'] = responseHeaders(result.headers);
  const cookies = responseCookies(result.cookies);
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  return { status, headers, body: responseBody(result.body, result.isBase64Encoded === true), warnings: ignoredFieldWarnings(result) };
}

/** Payload 2.0 has no multiValueHeaders; API Gateway drops them, so a handler relying on them breaks in AWS. */
function ignoredFieldWarnings(result: Record<string, unknown>): string[] {
  if (result.multiValueHeaders === undefined) return [];
  return ['multiValueHeaders is not part of the payload 2.0 response format; API Gateway ignores it (use headers with comma-joined values, or cookies)'];
}

// Hop-by-hop and framing headers are the gateway's business, not the integration's.
const GATEWAY_OWNED_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive']);

function responseHeaders(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new MalformedLambdaResponseError('headers must be an object');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined || value === null) continue;
    if (!['string', 'number', 'boolean'].includes(typeof value)) {
      throw new MalformedLambdaResponseError(`header ${name} must be a string, number or boolean`);
    }
    const key = name.toLowerCase();
    if (!GATEWAY_OWNED_HEADERS.has(key)) headers[key] = String(value);
  }
  return headers;
}

function responseCookies(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || raw.some((cookie) => typeof cookie !== 'string')) {
    throw new MalformedLambdaResponseError('cookies must be an array of strings');
  }
  return raw as string[];
}

function responseBody(raw: unknown, isBase64Encoded: boolean): Buffer {
  if (raw === undefined || raw === null) return Buffer.alloc(0);
  if (typeof raw !== 'string') throw new MalformedLambdaResponseError('body must be a string (JSON.stringify objects)');
  return Buffer.from(raw, isBase64Encoded ? 'base64' : 'utf8');
}

function hasEntries(record: Record<string, unknown> | undefined): record is Record<string, unknown> {
  return record !== undefined && Object.keys(record).length > 0;
}
