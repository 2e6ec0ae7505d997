/**
 * Loopback ports a person can open in a browser: one per (sandbox, app port), each piping
 * connections to that port inside the sandbox. The local `<port>-<id>.agentsphere.localhost:<port>`
 * URLs resolve to loopback, but are routed by their Host header, which not every client keeps
 * (a proxy, some tools); a plain loopback port opens anywhere, so it is what a human is shown.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { LocalSandbox } from './local-sandbox.ts';

interface OpenPort {
  server: Server;
  sockets: Set<Socket>;
  url: string;
}

export class BrowserPorts {
  readonly #servers = new Map<string, Promise<OpenPort>>();

  /** `http://127.0.0.1:<n>/` for the sandbox's port, opened on first use. */
  async url(sandbox: LocalSandbox, port: number): Promise<string> {
    const key = `${sandbox.sandboxId}:${port}`;
    let entry = this.#servers.get(key);
    if (!entry) {
      entry = listen(sandbox, port);
      this.#servers.set(key, entry);
    }
    return (await entry).url;
  }

  closeSandbox(sandboxId: string): void {
    for (const [key, entry] of this.#servers) {
      if (!key.startsWith(`${sandboxId}:`)) continue;
      this.#servers.delete(key);
      void entry.then(({ server, sockets }) => {
        server.close();
        sockets.forEach((socket) => socket.destroy());
      });
    }
  }
}

async function listen(sandbox: LocalSandbox, port: number): Promise<OpenPort> {
  const sockets = new Set<Socket>();
  // Paused until the sandbox's port is connected, so nothing the browser sends is lost.
  const server = createServer({ pauseOnConnect: true }, (client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    sandbox.runtime.connectPort(port).then(
      (upstream) => {
        if (client.destroyed) return void upstream.destroy();
        client.pipe(upstream).pipe(client);
        client.resume();
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
      },
      () => client.destroy(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('browser port did not bind');
  return { server, sockets, url: `http://127.0.0.1:${address.port}/` };
}
