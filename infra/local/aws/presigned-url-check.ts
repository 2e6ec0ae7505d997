/**
 * Checks an S3 presigned URL (AWS Signature Version 4, query-string form) as S3 does: the
 * signature over the method, the path, every query parameter, the signed headers (at least
 * `host`) and the payload hash, with the secret of the access key the URL names; the date and
 * scope; and the expiry. s3rver does not: it accepts any V4 signature ("Signature version 4
 * calculation is unimplemented" in its authentication middleware) and requests with none.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export interface SigningCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface PresignedRequest {
  method: string;
  /** The request target as received: path and query, still encoded. */
  url: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export type PresignedCheck = { valid: true } | { valid: false; reason: string };

/** S3 refuses presigned URLs valid for longer than seven days. */
const MAX_EXPIRES_SECONDS = 7 * 24 * 3600;
const AMZ_DATE = /^(\d{8})T\d{6}Z$/;

export function checkPresignedRequest(request: PresignedRequest, credentials: SigningCredentials, now: Date = new Date()): PresignedCheck {
  const queryStart = request.url.indexOf('?');
  const path = queryStart === -1 ? request.url : request.url.slice(0, queryStart);
  const parameters = parseQuery(queryStart === -1 ? '' : request.url.slice(queryStart + 1));
  if (!parameters) return refused('the query string is malformed');
  const single = (name: string) => {
    const values = parameters.filter(([key]) => key === name);
    return values.length === 1 ? values[0]![1] : undefined;
  };
  if (single('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return refused('not a presigned URL (X-Amz-Algorithm=AWS4-HMAC-SHA256 is missing)');
  const signature = single('X-Amz-Signature');
  const credential = single('X-Amz-Credential');
  const amzDate = single('X-Amz-Date');
  const expires = Number(single('X-Amz-Expires'));
  const signedHeaders = single('X-Amz-SignedHeaders');
  if (!signature || !/^[0-9a-f]{64}$/.test(signature) || !credential || !amzDate || !signedHeaders) return refused('a presigned URL parameter is missing or malformed');
  const [accessKeyId, scopeDate, region, service, terminator, ...extra] = credential.split('/');
  const date = AMZ_DATE.exec(amzDate);
  if (!date || !scopeDate || extra.length > 0 || terminator !== 'aws4_request' || service !== 's3' || !region || scopeDate !== date[1]) return refused('the credential scope is malformed');
  if (accessKeyId !== credentials.accessKeyId) return refused('the access key is unknown');
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_EXPIRES_SECONDS) return refused('X-Amz-Expires is out of range');
  const signedAt = Date.UTC(+amzDate.slice(0, 4), +amzDate.slice(4, 6) - 1, +amzDate.slice(6, 8), +amzDate.slice(9, 11), +amzDate.slice(11, 13), +amzDate.slice(13, 15));
  if (now.getTime() > signedAt + expires * 1000) return refused('the presigned URL has expired');
  if (now.getTime() < signedAt - 15 * 60_000) return refused('the presigned URL is signed in the future');

  const headerNames = signedHeaders.split(';');
  if (!headerNames.includes('host') || headerNames.some((name) => !/^[a-z0-9-]+$/.test(name))) return refused('the signed headers must include host');
  const canonicalHeaders = headerNames.map((name) => `${name}:${headerValue(request.headers[name])}\n`).join('');
  const canonicalQuery = parameters
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [encode(key), encode(value)] as const)
    .sort(([keyA, valueA], [keyB, valueB]) => (keyA === keyB ? compare(valueA, valueB) : compare(keyA, keyB)))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
  const payloadHash = single('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  const canonicalRequest = [request.method.toUpperCase(), path || '/', canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const scope = `${scopeDate}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, scopeDate);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, stringToSign);
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return refused('the signature does not match');
  return { valid: true };
}

function refused(reason: string): PresignedCheck {
  return { valid: false, reason };
}

/** `key=value` pairs, decoded; undefined when an escape is broken. */
function parseQuery(query: string): [string, string][] | undefined {
  try {
    return query
      .split('&')
      .filter(Boolean)
      .map((pair) => {
        const cut = pair.indexOf('=');
        const [key, value] = cut === -1 ? [pair, ''] : [pair.slice(0, cut), pair.slice(cut + 1)];
        return [decodeURIComponent(key), decodeURIComponent(value)];
      });
  } catch {
    return undefined;
  }
}

/** RFC 3986: everything but unreserved characters escaped, as SigV4 canonicalizes. */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}

function headerValue(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value.join(',') : (value ?? '')).trim().replace(/\s+/g, ' ');
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
