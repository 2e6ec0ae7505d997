/**
 * Every sandbox the adapter creates is `secure`: its daemon refuses requests without the access
 * token, and the token never leaves the adapter.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import { SandboxUnauthorizedError } from '../../functions/shared/sandbox/errors.ts';
import { startLocalHostFixture, type LocalHostFixture } from '../support/local-sandbox-host.ts';

let fixture: LocalHostFixture;
let provider: AgentSphereProvider;

beforeAll(async () => {
  fixture = await startLocalHostFixture();
  provider = new AgentSphereProvider({ apiKey: fixture.host.apiKey, domain: fixture.host.domain });
});

afterAll(async () => {
  await fixture?.stop();
});

function metadata() {
  return { userId: `user-${randomUUID()}`, projectId: 'secure', deploymentId: randomUUID() };
}

function accessTokenOf(sandboxId: string): string | undefined {
  return fixture.host.registry.get(sandboxId)?.accessToken;
}

describe('secure sandboxes', () => {
  it('creates every sandbox with an access token', async () => {
    const sandbox = await provider.create({ metadata: metadata(), lifetimeSeconds: 60 });

    expect(accessTokenOf(sandbox.sandboxId)).toMatch(/^[0-9a-f]{16,}$/);
    await sandbox.kill();
  });

  it('has its daemon refuse a request that carries no token', async () => {
    const sandbox = await provider.create({ metadata: metadata(), lifetimeSeconds: 60 });

    const response = await fetch(`https://49983-${sandbox.sandboxId}.${fixture.host.domain}/files?path=/etc/hostname&username=user`);

    expect(response.status).toBe(401);
    await sandbox.kill();
  });

  it('has its daemon refuse a wrong token', async () => {
    const sandbox = await provider.create({ metadata: metadata(), lifetimeSeconds: 60 });

    const response = await fetch(`https://49983-${sandbox.sandboxId}.${fixture.host.domain}/health`, {
      headers: { 'x-access-token': 'not-the-token' },
    });

    expect(response.status).toBe(401);
    await sandbox.kill();
  });

  it('works through the adapter, which sends the token itself, also after connecting by id', async () => {
    const created = await provider.create({ metadata: metadata(), lifetimeSeconds: 60 });
    await created.writeFiles([{ path: 'note.txt', content: 'secure' }]);

    const connected = await provider.connect(created.sandboxId);
    const result = await connected.run('cat note.txt');

    expect(result.stdout).toBe('secure');
    await connected.kill();
  });

  it('keeps the token out of the handle as it would be logged or serialized', async () => {
    const sandbox = await provider.create({ metadata: metadata(), lifetimeSeconds: 60 });
    const token = accessTokenOf(sandbox.sandboxId)!;

    const shown = [JSON.stringify(sandbox), String(sandbox), JSON.stringify(Object.entries(sandbox))].join('\n');

    expect(shown).not.toContain(token);
    await sandbox.kill();
  });

  it('reports a daemon that refuses the token as unauthorized', async () => {
    const sandbox = await provider.create({ metadata: metadata(), lifetimeSeconds: 60 });
    const local = fixture.host.registry.get(sandbox.sandboxId)!;
    // The token the sandbox accepts changes under the adapter (as after a rotation).
    Object.defineProperty(local, 'accessToken', { value: 'rotated', configurable: true });

    await expect(sandbox.readFile('/home/user')).rejects.toBeInstanceOf(SandboxUnauthorizedError);
    await provider.kill(sandbox.sandboxId);
  });
});
