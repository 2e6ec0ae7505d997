/**
 * The only way out of a sandbox: an HTTP proxy in the host that allows exactly the configured
 * `host:port` pairs (by default the npm registry over TLS). Sandboxes reach it through their
 * agent's listener on 127.0.0.1:3128 (`https_proxy`); their network namespace has nothing else.
 * `CONNECT host:port` to an allowed pair is tunnelled; a plain `GET http://host:port/...` to an
 * allowed pair is forwarded; everything else gets 403. The proxy never listens on a port: the
 * agent hands it each connection, which it reads as untrusted input.
 * An entry `host:port=address` also says where that name is: the proxy connects to `address`
 * (e.g. a host-local service under a name of its own, such as the local S3 gate, whose
 * presigned URLs name it) instead of resolving `host`. Nothing else of that address is allowed.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

// registry.yarnpkg.com is the npm registry under Yarn's name: yarn.lock files resolve to it.
export const DEFAULT_EGRESS_ALLOW_LIST = Object.freeze(['registry.npmjs.org:443', 'registry.yarnpkg.com:443']);
const IDLE_TIMEOUT_MS = 5 * 60_000;
const CONNECT_TIMEOUT_MS = 15_000;
const TARGET = /^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|\[[0-9a-f:.]+\]):(\d{1,5})$/;
/** An allow-list entry: `host:port`, or `host:port=address` (an IP address or a host name). */
const ENTRY = /^([^=\s]+)(?:=([a-z0-9.-]+|\[[0-9a-f:.]+\]))?$/;
/** Request headers that are for the proxy, not for the server. */
const HOP_BY_HOP = new Set(['proxy-connection', 'proxy-authorization', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade']);

export class EgressProxy {
  readonly allowList: readonly string[];
  readonly #allowed: Set<string>;
  /** `host:port` -> the address to connect to instead of resolving the host. */
  readonly #addresses = new Map<string, string>();
  readonly #server = createServer({ headersTimeout: 10_000, requestTimeout: 60_000, maxHeaderSize: 16 * 1024 });

  constructor(allowList: readonly string[] = DEFAULT_EGRESS_ALLOW_LIST) {
    const targets: string[] = [];
    for (const entry of allowList) {
      const parsed = ENTRY.exec(entry.toLowerCase());
      if (!parsed || !TARGET.test(parsed[1]!)) throw new Error(`egress allow-list entry "${entry}" is not host:port or host:port=address`);
      targets.push(parsed[1]!);
      if (parsed[2]) this.#addresses.set(parsed[1]!, parsed[2].replace(/^\[|\]$/g, ''));
    }
    this.allowList = Object.freeze([...allowList]);
    this.#allowed = new Set(targets);
    this.#server.on('connect', (request: IncomingMessage, socket: Duplex, head: Buffer) => this.#tunnel(request, socket, head));
    this.#server.on('request', (request: IncomingMessage, response: ServerResponse) => this.#forward(request, response));
    this.#server.on('clientError', (_error, socket: Duplex) => refuse(socket, 400, 'malformed proxy request'));
  }

  /** Serves one connection a sandbox opened to its proxy listener. */
  handle(socket: Socket): void {
    socket.setTimeout(IDLE_TIMEOUT_MS, () => socket.destroy());
    this.#server.emit('connection', socket);
    socket.resume();
  }

  #allows(host: string, port: number): boolean {
    return this.#allowed.has(`${host.toLowerCase()}:${port}`);
  }

  /** Where to connect for an allowed target: its own address when the allow-list names one. */
  #addressOf(host: string, port: number): string {
    return this.#addresses.get(`${host.toLowerCase()}:${port}`) ?? host;
  }

  #tunnel(request: IncomingMessage, socket: Duplex, head: Buffer): void {
    const target = TARGET.exec((request.url ?? '').toLowerCase());
    const host = target?.[1]?.replace(/^\[|\]$/g, '');
    const port = Number(target?.[2]);
    if (!target || !host || !this.#allows(target[1]!, port)) return refuse(socket, 403, `egress to ${request.url} is not allowed from a sandbox`);
    let connected = false;
    const upstream = connect({ host: this.#addressOf(target[1]!, port), port, timeout: CONNECT_TIMEOUT_MS });
    upstream.once('timeout', () => upstream.destroy(new Error('timed out')));
    upstream.once('connect', () => {
      connected = true;
      upstream.setTimeout(IDLE_TIMEOUT_MS);
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.once('error', (error) => {
      if (connected) socket.destroy();
      else refuse(socket, 502, `cannot reach ${request.url}: ${error.message}`);
    });
    socket.once('error', () => upstream.destroy());
    socket.once('close', () => upstream.destroy());
  }

  #forward(request: IncomingMessage, response: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(request.url ?? '');
    } catch {
      return deny(response, 400, 'a proxy request needs an absolute http:// URL');
    }
    const port = Number(url.port || 80);
    if (url.protocol !== 'http:' || !this.#allows(url.hostname, port)) return deny(response, 403, `egress to ${url.host} is not allowed from a sandbox`);
    const headers = Object.fromEntries(Object.entries(request.headers).filter(([name]) => !HOP_BY_HOP.has(name)));
    const upstream = httpRequest({ host: this.#addressOf(url.hostname, port), port, method: request.method, path: `${url.pathname}${url.search}`, headers, timeout: CONNECT_TIMEOUT_MS });
    upstream.on('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    upstream.on('error', (error) => (response.headersSent ? response.destroy() : deny(response, 502, `cannot reach ${url.host}: ${error.message}`)));
    upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
    // The sandbox went away mid-request (killed during an upload): the upstream request ends too,
    // or it would wait for the rest of the body forever.
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    request.pipe(upstream);
  }
}

function refuse(socket: Duplex, status: number, message: string): void {
  if (!socket.writable) return void socket.destroy();
  const reason = status === 403 ? 'Forbidden' : status === 400 ? 'Bad Request' : 'Bad Gateway';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(message) + 1}\r\n\r\n${message}\n`);
}

function deny(response: ServerResponse, status: number, message: string): void {
  response.writeHead(status, { 'content-type': 'text/plain', connection: 'close' });
  response.end(`${message}\n`);
}
