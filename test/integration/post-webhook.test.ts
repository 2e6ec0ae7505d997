/**
 * One webhook POST over real loopback HTTP: what the receiver gets, the address check made when
 * connecting (a name is refused by what it resolves to), no redirects, a bounded wait.
 */
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookRequestError, WebhookTargetRefusedError } from '../../functions/shared/webhooks/errors.ts';
import { checkedLookup, postWebhook } from '../../functions/shared/webhooks/post-webhook.ts';

const LOCAL = { allowLoopback: true };
const CLOUD = { allowLoopback: false };
const servers: Server[] = [];

interface Received {
  method: string;
  headers: IncomingMessage['headers'];
  body: string;
}

async function receiver(answer: (request: IncomingMessage, response: import('node:http').ServerResponse) => void) {
  const received: Received[] = [];
  const server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      received.push({ method: incoming.method ?? '', headers: incoming.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(incoming, response);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

describe('postWebhook', () => {
  it('POSTs the body with its headers and answers the status', async () => {
    // Prepare
    const hook = await receiver((_request, response) => response.writeHead(204).end());

    // Act
    const answer = await postWebhook({ url: `${hook.url}/hook`, body: '{"a":1}', headers: { 'content-type': 'application/json', 'x-test': 'yes' }, timeoutMs: 5_000, policy: LOCAL });

    // Assert
    expect(answer).toEqual({ statusCode: 204 });
    expect(hook.received).toEqual([{ method: 'POST', headers: expect.objectContaining({ 'x-test': 'yes', 'content-length': '7' }), body: '{"a":1}' }]);
  });

  it('does not follow a redirect', async () => {
    // Prepare
    const elsewhere = await receiver((_request, response) => response.writeHead(200).end());
    const hook = await receiver((_request, response) => response.writeHead(307, { location: `${elsewhere.url}/` }).end());

    // Act
    const answer = await postWebhook({ url: hook.url, body: '{}', headers: {}, timeoutMs: 5_000, policy: LOCAL });

    // Assert
    expect(answer.statusCode).toBe(307);
    expect(elsewhere.received).toEqual([]);
  });

  it('gives up on a receiver that does not answer in time', async () => {
    // Prepare: a receiver that reads the request and never answers
    const hook = await receiver(() => undefined);

    // Act
    const outcome = postWebhook({ url: hook.url, body: '{}', headers: {}, timeoutMs: 200, policy: LOCAL });

    // Assert
    await expect(outcome).rejects.toThrow(WebhookRequestError);
  });

  it('refuses a loopback target where loopback is not allowed, sending nothing', async () => {
    // Prepare
    const hook = await receiver((_request, response) => response.writeHead(200).end());

    // Act
    const outcome = postWebhook({ url: hook.url.replace('http:', 'https:'), body: '{}', headers: {}, timeoutMs: 5_000, policy: CLOUD });

    // Assert
    await expect(outcome).rejects.toThrow(WebhookTargetRefusedError);
    expect(hook.received).toEqual([]);
  });
});

describe('checkedLookup, the resolution a webhook connection uses', () => {
  it('refuses to connect to a name that resolves to a refused address, before any byte is sent', async () => {
    // Prepare: "localhost" resolves to loopback, which the cloud refuses
    const hook = await receiver((_request, response) => response.writeHead(200).end());
    const { port } = new URL(hook.url);

    // Act
    const outcome = new Promise((resolve, reject) => {
      const outgoing = request({ host: 'localhost', port, method: 'POST', lookup: checkedLookup(CLOUD) }, resolve);
      outgoing.on('error', reject);
      outgoing.end('{}');
    });

    // Assert
    await expect(outcome).rejects.toThrow(/resolves to (127\.0\.0\.1|::1), which is refused: must not point to a loopback address/);
    expect(hook.received).toEqual([]);
  });

  it('connects to a name whose addresses are all allowed', async () => {
    // Prepare
    const hook = await receiver((_request, response) => response.writeHead(200).end());
    const { port } = new URL(hook.url);

    // Act
    const status = await new Promise<number | undefined>((resolve, reject) => {
      const outgoing = request({ host: 'localhost', port, method: 'POST', family: 4, lookup: checkedLookup(LOCAL) }, (response) => {
        response.resume();
        resolve(response.statusCode);
      });
      outgoing.on('error', reject);
      outgoing.end('{}');
    });

    // Assert
    expect(status).toBe(200);
    expect(hook.received).toHaveLength(1);
  });
});
