/**
 * What the local sandbox host tells the operator when it starts: every protection that is on, and
 * a warning line for each one that is off on this machine, with why.
 */
import { describe, expect, it } from 'vitest';
import { startLocalHostFixture } from '../support/local-sandbox-host.ts';

async function announcementOf(isolation: 'bubblewrap' | 'namespaces'): Promise<string[]> {
  const lines: string[] = [];
  const fixture = await startLocalHostFixture({ isolation, announce: (announced) => lines.push(...announced) });
  await fixture.stop();
  return lines;
}

describe('the sandbox host at start', () => {
  it('names the isolation it runs sandboxes with: namespaces, identity, network, seccomp, limits and egress', async () => {
    // Act
    const [first] = await announcementOf('bubblewrap');

    // Assert
    expect(first).toMatch(/^\[sandbox-host\] isolation: bubblewrap: /);
    for (const protection of ['namespaces: user, pid', 'no capabilities', 'egress: only through the allow-listing proxy', 'seccomp', 'memory cgroup']) {
      expect(first).toContain(protection);
    }
  });

  it('warns once for each protection the unsafe launcher leaves off, naming it', async () => {
    // Act
    const lines = await announcementOf('namespaces');

    // Assert
    expect(lines).toContain('[sandbox-host] WARNING: 4 protection(s) OFF on this machine:');
    expect(lines.filter((line) => line.startsWith('[sandbox-host]   OFF '))).toEqual([
      expect.stringMatching(/^\[sandbox-host\]   OFF identity: sandboxes run as /),
      expect.stringMatching(/^\[sandbox-host\]   OFF network: the host network is shared/),
      expect.stringMatching(/^\[sandbox-host\]   OFF filesystem: /),
      '[sandbox-host]   OFF limits: no memory, process, CPU or disk limits',
    ]);
  });
});
