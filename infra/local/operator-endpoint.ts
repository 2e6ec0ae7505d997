/**
 * What an operator does by hand locally: `POST /sweep` runs the sweep now and answers its report
 * (in AWS: invoke the sweep function); `GET /browser-url` gives a URL to open an app port here.
 * Every request needs the stack's operator key (`Authorization: Bearer <key>`, written to
 * `.coderunner/local-stack.json`); malformed input is a 4xx, never a crash.
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OperatorActions {
  sweep(): Promise<unknown>;
  /** A URL a person can open on this machine for a sandbox's port. */
  browserUrl(sandboxId: string, port: number): Promise<string>;
}

export interface OperatorEndpointOptions {
  /** What every request must carry as `Authorization: Bearer <key>`. */
  operatorKey: string;
  port?: number;
}

const SANDBOX_ID = /^[a-z0-9]{1,64}(?:-[a-z0-9]{1,64})?$/;

export async function startOperatorEndpoint(actions: OperatorActions, options: OperatorEndpointOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      if (response.headersSent) return;
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    // Nothing of a request body is used: drain it so the connection stays usable.
    request.resume();
    request.on('error', () => {});
    if (!hasKey(request, options.operatorKey)) return reply(401, { message: 'the operator endpoint needs the operator key (Authorization: Bearer <key> from .coderunner/local-stack.json)' });
    let url: URL;
    try {
      url = new URL(request.url ?? '/', 'http://operator');
    } catch {
      return reply(400, { message: 'malformed request URL' });
    }
    if (request.method === 'POST' && url.pathname === '/sweep') {
      actions.sweep().then(
        (report) => reply(200, report),
        (error: unknown) => reply(500, { message: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    if (request.method === 'GET' && url.pathname === '/browser-url') {
      const sandboxId = url.searchParams.get('sandboxId') ?? '';
      const port = Number(url.searchParams.get('port'));
      if (!SANDBOX_ID.test(sandboxId)) return reply(400, { message: 'sandboxId must be a sandbox id' });
      if (!Number.isInteger(port) || port < 1 || port > 65_535) return reply(400, { message: 'port must be an integer from 1 to 65535' });
      actions.browserUrl(sandboxId, port).then(
        (browserUrl) => reply(200, { url: browserUrl }),
        (error: unknown) => reply(404, { message: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    reply(404, { message: 'operator endpoint: POST /sweep, GET /browser-url?sandboxId=&port=' });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function hasKey(request: IncomingMessage, operatorKey: string): boolean {
  const given = Buffer.from(/^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '');
  const expected = Buffer.from(operatorKey);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
