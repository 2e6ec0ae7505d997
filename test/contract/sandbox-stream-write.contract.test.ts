/**
 * Contract of the port's streamed write (writeFileStreams), with the production AgentSphere
 * adapter against the local sandbox host: ONE request per call whatever the sizes, bytes
 * identical, the sandbox's access token sent (sandboxes are secure), a transient daemon error
 * retried with the sources opened again.
 */
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import type { SandboxHandle, StreamToWrite } from '../../functions/shared/sandbox/sandbox-provider.ts';
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

/** `size` bytes generated chunk by chunk (never held whole), and their sha256. */
function generated(path: string, size: number, seed: number): { file: StreamToWrite; sha256: string } {
  const chunk = (index: number) => {
    const bytes = Buffer.alloc(64 * 1024);
    for (let offset = 0; offset < bytes.length; offset += 4) bytes.writeUInt32LE((index * 2654435761 + offset * 40503 + seed) >>> 0, offset);
    return bytes;
  };
  const hash = createHash('sha256');
  for (let index = 0, left = size; left > 0; index++, left -= 64 * 1024) hash.update(chunk(index).subarray(0, Math.min(left, 64 * 1024)));
  return {
    sha256: hash.digest('hex'),
    file: {
      path,
      size,
      async *open() {
        for (let index = 0, left = size; left > 0; index++, left -= 64 * 1024) yield chunk(index).subarray(0, Math.min(left, 64 * 1024));
      },
    },
  };
}

async function sandboxHash(sandbox: SandboxHandle, path: string): Promise<string> {
  return (await sandbox.run(`sha256sum ${path}`)).stdout.split(' ')[0]!;
}

function daemonWrites(sandboxId: string): number {
  const sandbox = fixture.host.registry.list().find((candidate) => candidate.fullId === sandboxId)!;
  return sandbox.stats.byRoute['POST /files'] ?? 0;
}

describe('streamed writes', () => {
  it('writes a 64 MiB file and small ones in ONE request, byte for byte', async () => {
    // Prepare
    const sandbox = await provider.create({ metadata: { userId: 'u', projectId: 'p', deploymentId: randomUUID() }, lifetimeSeconds: 120 });
    const big = generated('app/big.bin', 64 * 1024 * 1024 + 17, 1);
    const small = Array.from({ length: 50 }, (_, index) => generated(`app/small/${index}.txt`, 100 + index, index));
    const empty = generated('app/empty', 0, 0);
    const before = daemonWrites(sandbox.sandboxId);

    // Act
    await sandbox.writeFileStreams([big.file, ...small.map((entry) => entry.file), empty.file]);

    // Assert
    expect(daemonWrites(sandbox.sandboxId) - before).toBe(1);
    expect(await sandboxHash(sandbox, 'app/big.bin')).toBe(big.sha256);
    expect(await sandboxHash(sandbox, 'app/small/49.txt')).toBe(small[49]!.sha256);
    expect(await sandboxHash(sandbox, 'app/empty')).toBe(empty.sha256);
    await sandbox.kill();
  }, 60_000);

  it('retries a transient daemon error, opening the sources again', async () => {
    // Prepare
    const sandbox = await provider.create({ metadata: { userId: 'u', projectId: 'p', deploymentId: randomUUID() }, lifetimeSeconds: 60 });
    const file = generated('app/retried.bin', 300_000, 9);
    let opened = 0;
    const counted: StreamToWrite = { ...file.file, open: () => (opened++, file.file.open()) };
    fixture.host.faults.add({ target: 'daemon', status: 503, times: 1, pathIncludes: '/files' });

    // Act
    await sandbox.writeFileStreams([counted]);

    // Assert
    expect(opened).toBe(2);
    expect(await sandboxHash(sandbox, 'app/retried.bin')).toBe(file.sha256);
    await sandbox.kill();
  });

  it('refuses a source that gives fewer bytes than it declared', async () => {
    // Prepare
    const sandbox = await provider.create({ metadata: { userId: 'u', projectId: 'p', deploymentId: randomUUID() }, lifetimeSeconds: 60 });
    const short = generated('app/short.bin', 1000, 3);

    // Act
    const write = sandbox.writeFileStreams([{ ...short.file, size: 2000 }]);

    // Assert
    await expect(write).rejects.toThrow(/1000 of the 2000 bytes/);
    await sandbox.kill();
  });
});
