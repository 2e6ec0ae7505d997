/**
 * What an operator does by hand locally: `POST /sweep` runs the sweep now and answers its report.
 * (In AWS: invoke the sweep function.)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OperatorActions {
  sweep(): Promise<unknown>;
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
    reply(404, { message: 'operator endpoint: POST /sweep' });
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
