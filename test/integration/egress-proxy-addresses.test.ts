/**
 * The egress proxy's `host:port=address` entries: the named host is reached at that address
 * (a host-local service under a name of its own), and that address is not reachable otherwise.
 */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EgressProxy } from '../../infra/local/sandbox-host/bubblewrap/egress-proxy.ts';

let target: HttpServer;
let targetPort: number;
/** Requests the target saw end before their body did. */
const abortedAtTarget: string[] = [];
let listener: Server;
let proxyPort: number;

beforeAll(async () => {
  target = createHttpServer((request, response) => {
    if (request.method === 'PUT') {
      request.on('aborted', () => abortedAtTarget.push(request.url ?? ''));
      request.on('end', () => response.end('stored'));
      request.resume();
      return;
    }
    response.end(`served ${request.method} ${request.url} for ${request.headers.host}`);
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetPort = (target.address() as AddressInfo).port;
  const proxy = new EgressProxy([`s3.coderunner.test:${targetPort}=127.0.0.1`]);
  // As the agent hands the proxy each connection a sandbox opened.
  listener = createServer((socket) => proxy.handle(socket));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  proxyPort = (listener.address() as AddressInfo).port;
});

afterAll(async () => {
  target?.closeAllConnections();
  await new Promise((resolve) => target?.close(resolve));
  await new Promise((resolve) => listener?.close(resolve));
});

/** One raw request to the proxy, answered as text. */
function throughProxy(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(proxyPort, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
      if (answer.startsWith('HTTP/1.1 200 Connection Established') || complete(answer)) socket.end();
    });
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** Headers and as many body bytes as content-length says. */
function complete(answer: string): boolean {
  const end = answer.indexOf('\r\n\r\n');
  const length = /\r\ncontent-length: *(\d+)/i.exec(answer)?.[1];
  return end !== -1 && length !== undefined && Buffer.byteLength(answer.slice(end + 4)) >= Number(length);
}

describe('egress allow-list entries with an address', () => {
  it('forwards a plain request for the named host to its address, keeping the Host header', async () => {
    // Act
    const answer = await throughProxy(`GET http://s3.coderunner.test:${targetPort}/bucket/key?x=1 HTTP/1.1\r\nHost: s3.coderunner.test:${targetPort}\r\nConnection: close\r\n\r\n`);

    // Assert
    expect(answer).toMatch(/^HTTP\/1.1 200/);
    expect(answer).toContain(`served GET /bucket/key?x=1 for s3.coderunner.test:${targetPort}`);
  });

  it('tunnels CONNECT to the named host at its address', async () => {
    // Act
    const answer = await throughProxy(`CONNECT s3.coderunner.test:${targetPort} HTTP/1.1\r\nHost: s3.coderunner.test:${targetPort}\r\n\r\n`);

    // Assert
    expect(answer).toMatch(/^HTTP\/1.1 200 Connection Established/);
  });

  it('refuses the address itself, the name on another port, and other hosts', async () => {
    for (const target of [`127.0.0.1:${targetPort}`, `s3.coderunner.test:${targetPort + 1}`, `localhost:${targetPort}`]) {
      const answer = await throughProxy(`GET http://${target}/ HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
      expect(answer, target).toMatch(/^HTTP\/1.1 403/);
    }
  });

  it('ends the upstream request when the sandbox goes away in the middle of an upload', async () => {
    // Prepare
    const socket = connect(proxyPort, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));

    // Act
    socket.write(`PUT http://s3.coderunner.test:${targetPort}/upload-cut-short HTTP/1.1\r\nHost: s3.coderunner.test:${targetPort}\r\nContent-Length: 100000\r\n\r\n${'x'.repeat(1000)}`);
    while (!abortedAtTarget.length) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      // Killed mid-upload, once the request reached the target.
      if (!socket.destroyed) socket.destroy();
    }

    // Assert
    expect(abortedAtTarget).toEqual(['/upload-cut-short']);
  });

  it('rejects malformed entries', () => {
    expect(() => new EgressProxy(['s3.coderunner.test:4569=not an address'])).toThrow('is not host:port or host:port=address');
    expect(() => new EgressProxy(['s3.coderunner.test=127.0.0.1'])).toThrow('is not host:port or host:port=address');
  });
});
