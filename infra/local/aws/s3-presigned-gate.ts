/**
 * The local S3 as sandboxes reach it: a gate in front of s3rver that lets through only requests
 * carrying a valid presigned signature (s3rver checks none), only to object paths under the
 * given prefixes, only GET, HEAD and PUT. The sandbox host's egress proxy allows sandboxes this
 * gate and nothing else of the host, so a sandbox reads or writes exactly the objects it was
 * handed URLs for. The functions themselves talk to s3rver directly.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { checkPresignedRequest, type SigningCredentials } from './presigned-url-check.ts';

export interface S3PresignedGateOptions {
  /** s3rver's endpoint, e.g. http://127.0.0.1:4568. */
  upstream: string;
  credentials: SigningCredentials;
  /** Path prefixes (`/<bucket>/<key prefix>`) a request may name. */
  pathPrefixes: readonly string[];
  now?: () => Date;
}

export interface GateDecision {
  method: string;
  path: string;
  /** The answer: the upstream's status, or the gate's own refusal. */
  status: number;
  refused?: string;
}

export interface S3PresignedGate {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  /** Every request the gate answered, in order (tests look at what sandboxes asked). */
  decisions(): readonly GateDecision[];
  /** Requests to s3rver under way. */
  inFlight(): number;
  close(): Promise<void>;
}

const METHODS = new Set(['GET', 'HEAD', 'PUT']);
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'upgrade', 'expect', 'host']);
const MAX_DECISIONS = 10_000;

export async function startS3PresignedGate(options: S3PresignedGateOptions): Promise<S3PresignedGate> {
  const upstream = new URL(options.upstream);
  const decisions: GateDecision[] = [];
  const inFlight = new Set<ReturnType<typeof httpRequest>>();
  const record = (decision: GateDecision) => {
    if (decisions.length >= MAX_DECISIONS) decisions.shift();
    decisions.push(decision);
  };
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 10 * 60_000, maxHeaderSize: 16 * 1024 }, (request, response) => {
    const method = request.method ?? 'GET';
    const url = request.url ?? '/';
    const path = url.split('?')[0]!;
    const refusal = refuse(request, options, path);
    if (refusal) {
      record({ method, path, status: 403, refused: refusal });
      return deny(response, 403, 'AccessDenied', refusal);
    }
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
    const forwarded = httpRequest({ host: upstream.hostname, port: upstream.port, method, path: url, headers: { ...headers, host: upstream.host } });
    inFlight.add(forwarded);
    forwarded.on('close', () => inFlight.delete(forwarded));
    // A client gone mid-request (a sandbox killed during its upload) ends the request to s3rver,
    // which would otherwise wait for the rest of the body (and s3rver's close for it).
    response.on('close', () => {
      if (!response.writableFinished) forwarded.destroy();
    });
    forwarded.on('response', (answer) => {
      record({ method, path, status: answer.statusCode ?? 502 });
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    forwarded.on('error', (error) => {
      record({ method, path, status: 502, refused: error.message });
      if (response.headersSent) response.destroy();
      else deny(response, 502, 'BadGateway', `the local S3 cannot be reached: ${error.message}`);
    });
    request.pipe(forwarded);
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    decisions: () => decisions,
    inFlight: () => inFlight.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const request of inFlight) request.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function refuse(request: IncomingMessage, options: S3PresignedGateOptions, path: string): string | undefined {
  if (!METHODS.has(request.method ?? '')) return `${request.method} is not allowed`;
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return 'the path is malformed';
  }
  if (decoded.split('/').some((segment) => segment === '..' || segment === '.')) return 'the path is not normalized';
  if (!options.pathPrefixes.some((prefix) => decoded.startsWith(prefix))) return `${decoded} is outside what sandboxes may reach`;
  const check = checkPresignedRequest({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers }, options.credentials, options.now?.());
  return check.valid ? undefined : check.reason;
}

function deny(response: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>\n`;
  response.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), connection: 'close' });
  response.end(body);
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
