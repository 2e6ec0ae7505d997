import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalHostFixture, type LocalHostFixture } from '../support/local-sandbox-host.ts';

let fixture: LocalHostFixture;

beforeAll(async () => {
  fixture = await startLocalHostFixture();
});

afterAll(async () => {
  await fixture?.stop();
});

describe('routing the SDK to the local sandbox host', () => {
  it('sends the control-plane host name to the local host, keeping the Host header', async () => {
    const response = await fetch(`https://api.${fixture.host.domain}/sandboxes`, {
      headers: { 'X-API-KEY': fixture.host.apiKey },
    });

    expect(response.status).toBe(200);
    expect(await response.json()).toEqual([]);
  });

  it('refuses any other origin that is not loopback', async () => {
    const attempt = fetch('https://api.agentsphere.run/sandboxes');

    await expect(attempt).rejects.toMatchObject({ cause: { name: 'BlockedOriginError' } });
  });

  it('still lets loopback requests through', async () => {
    const response = await fetch(`${fixture.host.url}/_host/health`, { headers: { authorization: `Bearer ${fixture.host.operatorKey}` } });

    expect(await response.json()).toMatchObject({ ok: true });
  });
});
