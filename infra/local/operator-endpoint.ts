/**
 * What an operator does by hand locally: `POST /sweep` runs the sweep now and answers its report
 * (in AWS: invoke the sweep function); `GET /browser-url` gives a URL to open an app port here.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OperatorActions {
  sweep(): Promise<unknown>;
  /** A URL a person can open on this machine for a sandbox's port. */
  browserUrl(sandboxId: string, port: number): Promise<string>;
}

export async function startOperatorEndpoint(actions: OperatorActions, port = 0): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'POST' && request.url === '/sweep') {
      actions.sweep().then(
        (report) => reply(200, report),
        (error: unknown) => reply(500, { message: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    const url = new URL(request.url ?? '/', 'http://operator');
    if (request.method === 'GET' && url.pathname === '/browser-url') {
      const sandboxId = url.searchParams.get('sandboxId') ?? '';
      const port = Number(url.searchParams.get('port'));
      actions.browserUrl(sandboxId, port).then(
        (browserUrl) => reply(200, { url: browserUrl }),
        (error: unknown) => reply(404, { message: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    reply(404, { message: 'operator endpoint: POST /sweep, GET /browser-url?sandboxId=&port=' });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
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
