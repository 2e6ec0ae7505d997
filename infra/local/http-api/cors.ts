/**
 * The HTTP API's built-in CORS: when configured, API Gateway answers preflight `OPTIONS` itself
 * (no route, no authorizer) and sets the CORS headers on every response, replacing any the
 * integration returned.
 */

export interface CorsOptions {
  /** Exact origins, or `'*'`. */
  allowOrigins: string[];
  allowMethods?: string[];
  allowHeaders?: string[];
  exposeHeaders?: string[];
  allowCredentials?: boolean;
  maxAgeSeconds?: number;
}

type Headers = Record<string, string | string[]>;

export function isPreflight(method: string, headers: Record<string, string>): boolean {
  return method === 'OPTIONS' && headers.origin !== undefined && headers['access-control-request-method'] !== undefined;
}

/** The 204 API Gateway answers a preflight with; without CORS headers when the origin is not allowed. */
export function preflightHeaders(cors: CorsOptions, origin: string | undefined): Headers {
  const allowOrigin = allowedOrigin(cors, origin);
  if (!allowOrigin) return {};
  return {
    'access-control-allow-origin': allowOrigin,
    ...(cors.allowMethods?.length && { 'access-control-allow-methods': cors.allowMethods.join(',') }),
    ...(cors.allowHeaders?.length && { 'access-control-allow-headers': cors.allowHeaders.join(',') }),
    ...(cors.allowCredentials && { 'access-control-allow-credentials': 'true' }),
    ...(cors.maxAgeSeconds !== undefined && { 'access-control-max-age': String(cors.maxAgeSeconds) }),
  };
}

/** Replaces the integration's CORS headers with the configured ones, as API Gateway does. */
export function withCorsHeaders(cors: CorsOptions, origin: string | undefined, headers: Headers): Headers {
  const result: Headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !name.startsWith('access-control-')));
  const allowOrigin = allowedOrigin(cors, origin);
  if (!allowOrigin) return result;
  result['access-control-allow-origin'] = allowOrigin;
  if (cors.allowCredentials) result['access-control-allow-credentials'] = 'true';
  if (cors.exposeHeaders?.length) result['access-control-expose-headers'] = cors.exposeHeaders.join(',');
  return result;
}

function allowedOrigin(cors: CorsOptions, origin: string | undefined): string | undefined {
  if (origin === undefined) return undefined;
  if (cors.allowOrigins.includes('*')) return cors.allowCredentials ? origin : '*';
  return cors.allowOrigins.some((allowed) => allowed.toLowerCase() === origin.toLowerCase()) ? origin : undefined;
}
