/**
 * Starts a real local sandbox host for a test file, in its own state directory, and routes the
 * AgentSphere SDK's requests to it.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { routeAgentSphereToLocalHost } from '../../infra/local/agentsphere-routing.ts';
import { startSandboxHost, type SandboxHost } from '../../infra/local/sandbox-host/sandbox-host.ts';

export interface LocalHostFixture {
  host: SandboxHost;
  stop(): Promise<void>;
}

export async function startLocalHostFixture(): Promise<LocalHostFixture> {
  const stateDir = await mkdtemp(join(tmpdir(), 'coderunner-host-'));
  const host = await startSandboxHost({ stateDir });
  const unroute = routeAgentSphereToLocalHost({ hostUrl: host.url, domain: host.domain });
  return {
    host,
    async stop() {
      unroute();
      await host.close();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

/** Host processes whose command line contains `marker` (reads the real process table). */
export async function processesMatching(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const commandLine = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (commandLine.replaceAll('\0', ' ').includes(marker)) found.push(Number(entry));
  }
  return found;
}

/**
 * A free port for an app inside a sandbox. Sandboxes share the host network for now, so ports
 * must not clash across test files running at once: the kernel picks one that nothing listens on.
 */
export async function freshPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
