/**
 * Starts a real local sandbox host for a test file, in its own state directory, and routes the
 * AgentSphere SDK's requests to it.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { routeAgentSphereToLocalHost } from '../../infra/local/agentsphere-routing.ts';
import { startSandboxHost, type SandboxHost, type SandboxHostOptions } from '../../infra/local/sandbox-host/sandbox-host.ts';

export interface LocalHostFixture {
  host: SandboxHost;
  stop(): Promise<void>;
}

export async function startLocalHostFixture(options: Omit<SandboxHostOptions, 'stateDir'> = {}): Promise<LocalHostFixture> {
  const stateDir = await mkdtemp(join(tmpdir(), 'coderunner-host-'));
  const host = await startSandboxHost({ stateDir, ...options });
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
