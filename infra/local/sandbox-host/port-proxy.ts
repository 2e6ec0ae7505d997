/**
 * App ports (`https://<port>-<id>.<domain>`): HTTP requests and upgrades are passed to the port
 * inside the sandbox, keeping method, path, headers and body.
 */
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { LocalSandbox } from './local-sandbox.ts';
import { sendError } from './http-util.ts';

export function proxyHttp(sandbox: LocalSandbox | undefined, port: number, request: IncomingMessage, response: ServerResponse): void {
  if (!sandbox) return sendError(response, 502, 'sandbox not found or no longer running');
  const upstream = httpRequest({
    method: request.method,
    path: request.url,
    headers: request.headers,
    createConnection: (_options, created) => {
      sandbox.runtime.connectPort(port).then((socket) => created(null, socket), (error: Error) => created(error, undefined as never));
      return undefined;
    },
  });
  upstream.on('response', (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  upstream.on('error', (error: NodeJS.ErrnoException) => {
    if (response.headersSent) return void response.destroy();
    const closed = error.code === 'ECONNREFUSED';
    sendError(response, 502, closed ? `the sandbox is running but port ${port} is not open` : `port ${port}: ${error.message}`);
  });
  request.pipe(upstream);
}

export function proxyUpgrade(sandbox: LocalSandbox | undefined, port: number, request: IncomingMessage, socket: Duplex, head: Buffer): void {
  if (!sandbox) return void socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n');
  socket.on('error', () => socket.destroy());
  sandbox.runtime.connectPort(port).then(
    (upstream) => {
      if (socket.destroyed) return void upstream.destroy();
      const headerLines = Object.entries(request.headers).flatMap(([name, value]) =>
        (Array.isArray(value) ? value : [value]).map((item) => `${name}: ${item}`),
      );
      upstream.write(`${request.method} ${request.url} HTTP/1.1\r\n${headerLines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
      socket.on('close', () => upstream.destroy());
    },
    () => socket.destroy(),
  );
}
