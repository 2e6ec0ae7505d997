/**
 * Tries, from inside real sandboxes of the local host (the default bubblewrap launcher), what an
 * attacker would: host files, writes outside its trees, mounts and namespaces, the host's
 * environment, every listening host loopback port, other sandboxes, the daemon without its
 * token, the host escape through env.PATH / LD_PRELOAD, and each resource limit; and checks that
 * what should still work does (apps on the same port, npm installs through the egress proxy).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import type { SandboxHandle } from '../../functions/shared/sandbox/sandbox-provider.ts';
import { UID_BASE } from '../../infra/local/sandbox-host/bubblewrap/sandbox-leases.ts';
import type { SandboxLimits } from '../../infra/local/sandbox-host/sandbox-limits.ts';
import { processesMatching, startLocalHostFixture, type LocalHostFixture } from '../support/local-sandbox-host.ts';

const MiB = 1024 * 1024;
/** Own uids, cgroups and loop disks need root; without it the host announces them off. */
const asRoot = process.getuid?.() === 0;
let fixture: LocalHostFixture;
let provider: AgentSphereProvider;
let scratch: string;
const sandboxes: SandboxHandle[] = [];

beforeAll(async () => {
  fixture = await startLocalHostFixture({ announce: () => {} });
  provider = new AgentSphereProvider({ apiKey: fixture.host.apiKey, domain: fixture.host.domain });
  scratch = await mkdtemp(join(tmpdir(), 'coderunner-escape-'));
});

afterAll(async () => {
  await Promise.all(sandboxes.map((sandbox) => sandbox.kill().catch(() => {})));
  await fixture?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

interface CreateOptions {
  limits?: Partial<SandboxLimits>;
  secure?: boolean;
  env?: Record<string, string>;
}

/** Creates a sandbox through the control plane (with the local `limits` extension), then connects the adapter to it. */
async function createSandbox(options: CreateOptions = {}): Promise<{ sandbox: SandboxHandle; accessToken?: string; sandboxId: string }> {
  const response = await fetch(`https://api.${fixture.host.domain}/sandboxes`, {
    method: 'POST',
    headers: { 'x-api-key': fixture.host.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({
      templateID: 'base',
      timeout: 300,
      metadata: { userId: `escape-${randomUUID()}`, projectId: 'escape', deploymentId: randomUUID() },
      ...(options.env ? { envVars: options.env } : {}),
      ...(options.secure ? { secure: true } : {}),
      ...(options.limits ? { limits: options.limits } : {}),
    }),
  });
  const body = (await response.json()) as { sandboxID: string; clientID: string; envdAccessToken?: string; message?: string };
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${body.message}`);
  const sandboxId = `${body.sandboxID}-${body.clientID}`;
  const sandbox = await provider.connect(sandboxId);
  sandboxes.push(sandbox);
  return { sandbox, sandboxId, ...(body.envdAccessToken ? { accessToken: body.envdAccessToken } : {}) };
}

async function run(sandbox: SandboxHandle, command: string, timeoutMs = 60_000) {
  return sandbox.run(command, { timeoutMs });
}

async function waitForPort(url: string): Promise<Response> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const response = await fetch(url).catch(() => undefined);
    if (response?.ok) return response;
    await sleep(50);
  }
  throw new Error(`${url} never answered`);
}

/** TCP ports something on this host listens on, on loopback or on every address. */
async function hostListeningPorts(): Promise<number[]> {
  const ports = new Set<number>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || !local) continue;
      const [address, portHex] = local.split(':');
      const loopbackOrAny = /^(0100007F|00000000|0{24}0{7}1|0{32}|0{16}FFFF0000(0100007F|00000000))$/i.test(address!);
      if (loopbackOrAny) ports.add(Number.parseInt(portHex!, 16));
    }
  }
  return [...ports].sort((a, b) => a - b);
}

/** Runs a Node script inside the sandbox that prints which of these host:port pairs accept a TCP connection. */
async function reachable(sandbox: SandboxHandle, targets: { host: string; port: number }[]): Promise<unknown[]> {
  const script = `
const net = require('net');
const targets = ${JSON.stringify(targets)};
const open = [];
let pending = targets.length;
if (pending === 0) console.log('[]');
for (const t of targets) {
  const s = net.connect({ host: t.host, port: t.port });
  const done = (ok) => { s.destroy(); if (ok) open.push(t); if (--pending === 0) console.log(JSON.stringify(open)); };
  s.setTimeout(1000, () => done(false));
  s.once('connect', () => done(true));
  s.once('error', () => done(false));
}`;
  await sandbox.writeFiles([{ path: '/tmp/probe.js', content: script }]);
  const result = await run(sandbox, 'node /tmp/probe.js', 120_000);
  return JSON.parse(result.stdout.trim() || 'null') as unknown[];
}

describe('identity', () => {
  it('runs as an unprivileged user with no capabilities, no new privileges and seccomp', async () => {
    const { sandbox } = await createSandbox();

    const inside = await run(sandbox, 'id -u; id -un; grep -E "^(CapEff|CapBnd|NoNewPrivs|Seccomp):" /proc/self/status');

    expect(inside.stdout).toMatch(/^1000\nuser\n/);
    expect(inside.stdout).toMatch(/CapEff:\s+0{16}/);
    expect(inside.stdout).toMatch(/CapBnd:\s+0{16}/);
    expect(inside.stdout).toMatch(/NoNewPrivs:\s+1/);
    expect(inside.stdout).toMatch(/Seccomp:\s+2/);
  });

  it.skipIf(!asRoot)('is a host uid of its own, not root, seen from the host', async () => {
    const marker = `${910_000 + Math.floor(Math.random() * 9_999)}`;
    const { sandbox } = await createSandbox();
    const other = await createSandbox();
    await sandbox.startBackground(`sleep ${marker}1`, { stdoutPath: 'o', stderrPath: 'e' });
    await other.sandbox.startBackground(`sleep ${marker}2`, { stdoutPath: 'o', stderrPath: 'e' });
    await sleep(300);

    const uids = await Promise.all(
      [1, 2].map(async (suffix) => {
        const [pid] = await processesMatching(`sleep ${marker}${suffix}`);
        return Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${pid}/status`, 'utf8'))?.[1]);
      }),
    );

    expect(uids[0]).toBeGreaterThanOrEqual(UID_BASE);
    expect(uids[1]).toBeGreaterThanOrEqual(UID_BASE);
    expect(uids[0]).not.toBe(uids[1]);
  });

  it('owns the files the host uploads', async () => {
    const { sandbox } = await createSandbox();
    await sandbox.writeFiles([{ path: 'app/uploaded.txt', content: 'mine' }]);

    const inside = await run(sandbox, 'stat -c "%U %a" app/uploaded.txt app && echo more >> app/uploaded.txt && cat app/uploaded.txt');

    expect(inside.stdout).toMatch(/^user \d+\nuser \d+\nminemore\n$/);
  });
});

describe('files', () => {
  it('cannot read host files: /etc/shadow, /root, the checkout, the host /tmp', async () => {
    const hostSecret = join(scratch, `host-secret-${randomUUID()}`);
    await writeFile(hostSecret, 'host-only');
    const { sandbox } = await createSandbox();

    const inside = await run(sandbox, [
      'cat /etc/shadow 2>/dev/null && echo READ-shadow',
      'ls /root 2>/dev/null && echo READ-root',
      `ls ${process.cwd()} 2>/dev/null && echo READ-checkout`,
      `cat ${hostSecret} 2>/dev/null && echo READ-tmp`,
      'ls /var 2>/dev/null && echo READ-var',
      'grep -c . /etc/passwd',
      'true',
    ].join('; '));

    expect(inside.stdout).not.toContain('READ-');
    expect(inside.stdout).not.toContain('host-only');
    // Only the synthetic /etc/passwd: root, user, nobody.
    expect(inside.stdout.trim()).toBe('3');
  });

  it('cannot write outside /home/user and /tmp', async () => {
    const { sandbox } = await createSandbox();

    const inside = await run(sandbox, [
      ...['/usr/escape', '/etc/escape', '/escape', '/opt/coderunner/escape', '/sys/fs/cgroup/memory/escape', '/proc/escape'].map(
        (path) => `(echo x > ${path}) 2>/dev/null && echo WROTE-${path}`,
      ),
      'echo x > /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null && echo WROTE-limit',
      'echo ok > /home/user/mine && echo ok > /tmp/mine && cat /home/user/mine /tmp/mine',
    ].join('; '));

    expect(inside.stdout).not.toContain('WROTE-');
    expect(inside.stdout).toBe('ok\nok\n');
  });

  it('cannot unmount, mount or make namespaces to see what is beneath', async () => {
    const { sandbox } = await createSandbox();
    await sandbox.writeFiles([{ path: '/tmp/still-mine', content: 'yes' }]);

    const inside = await run(sandbox, [
      'unshare -m true 2>/dev/null && echo UNSHARED-mount',
      'unshare -U true 2>/dev/null && echo UNSHARED-user',
      "unshare -m sh -c 'umount -l /tmp' 2>/dev/null && echo UNMOUNTED-tmp",
      'umount -l /tmp 2>/dev/null && echo UNMOUNTED-tmp-directly',
      'umount -l /proc 2>/dev/null && echo UNMOUNTED-proc',
      'mount -t proc proc /tmp 2>/dev/null && echo MOUNTED-proc',
      'mount -t tmpfs none /home/user 2>/dev/null && echo MOUNTED-tmpfs',
      'python3 -c "import ctypes; l=ctypes.CDLL(None, use_errno=True); print(\'PTRACED\' if l.ptrace(16, 1, 0, 0) == 0 else \'\')"',
      'cat /tmp/still-mine',
    ].join('; '));

    expect(inside.stdout).not.toMatch(/UNSHARED|UNMOUNTED|MOUNTED|PTRACED/);
    expect(inside.stdout).toContain('yes');
  });

  it('sees only its own processes in /proc, and none of the agent\'s memory, environment or descriptors', async () => {
    const { sandbox } = await createSandbox();

    const inside = await run(sandbox, [
      'ls /proc | grep -cE "^[0-9]+$"',
      'for p in /proc/[0-9]*; do [ "$(tr "\\0" "\\n" < $p/cmdline | head -1)" = /opt/coderunner/node ] && agent=${p#/proc/}; done',
      'echo "agent=$agent"',
      // A process that may not be inspected reads as an empty environ, not as an error.
      '[ "$(tr "\\0" "\\n" < /proc/$agent/environ 2>/dev/null | grep -c =)" -gt 0 ] && echo READ-agent-environ',
      'ls /proc/$agent/fd >/dev/null 2>&1 && echo READ-agent-fds',
      'python3 -c "open(\'/proc/$agent/mem\', \'r+b\'); print(\'OPENED-agent-mem\')" 2>/dev/null',
      'ls /proc/self/fd | tr "\\n" " "',
    ].join('; '));

    const commandLines = (await run(sandbox, 'cat /proc/[0-9]*/cmdline | tr "\\0" " "')).stdout;
    expect(Number(inside.stdout.split('\n')[0])).toBeLessThan(20);
    expect(commandLines).not.toContain('vitest');
    expect(commandLines).not.toContain(process.execPath);
    expect(inside.stdout).toMatch(/agent=\d+/);
    expect(inside.stdout, inside.stdout).not.toMatch(/READ-agent|OPENED-agent/);
  });
});

describe('the agent', () => {
  it('ends only its own sandbox when the tenant kills it', async () => {
    const { sandbox } = await createSandbox();
    const bystander = await createSandbox();

    await sandbox.run('for p in /proc/[0-9]*; do [ "$(tr "\\0" "\\n" < $p/cmdline | head -1)" = /opt/coderunner/node ] && kill -9 ${p#/proc/}; done; sleep 5').catch(() => {});
    const deadline = Date.now() + 10_000;
    while ((await sandbox.isAlive()) && Date.now() < deadline) await sleep(50);

    expect(await sandbox.isAlive()).toBe(false);
    expect((await bystander.sandbox.run('echo still here')).stdout).toBe('still here\n');
  });
});

describe('environment', () => {
  it("sees none of the host's environment, also not in pid 1's", async () => {
    process.env.CODERUNNER_ESCAPE_SECRET = `host-secret-${randomUUID()}`;
    try {
      const { sandbox } = await createSandbox({ env: { GIVEN: 'yes' } });

      const inside = await run(sandbox, 'env; for pid in /proc/[0-9]*; do cat $pid/environ 2>/dev/null | tr "\\0" "\\n"; done');

      expect(inside.stdout).toContain('GIVEN=yes');
      expect(inside.stdout).not.toContain(process.env.CODERUNNER_ESCAPE_SECRET);
      expect(inside.stdout).not.toMatch(/AWS_|AGENTSPHERE_API_KEY|CODERUNNER_SANDBOX_HOST/);
      expect(inside.stdout).not.toContain(process.cwd());
    } finally {
      delete process.env.CODERUNNER_ESCAPE_SECRET;
    }
  });
});

describe('network', () => {
  it('reaches no port the host listens on, on loopback or its other addresses', async () => {
    const { sandbox } = await createSandbox();
    const ports = await hostListeningPorts();
    const ownPorts = (await run(sandbox, "awk 'NR>1 && $4==\"0A\" {split($2,a,\":\"); print strtonum(\"0x\" a[2])}' /proc/net/tcp /proc/net/tcp6")).stdout
      .split('\n')
      .filter(Boolean)
      .map(Number);
    const hostAddresses = Object.values(networkInterfaces()).flat().filter((entry) => entry && !entry.internal && entry.family === 'IPv4').map((entry) => entry!.address);
    const targets = ports
      .filter((port) => !ownPorts.includes(port))
      .flatMap((port) => [{ host: '127.0.0.1', port }, { host: '::1', port }, ...hostAddresses.map((host) => ({ host, port }))]);

    const reached = await reachable(sandbox, targets);

    expect(ports).toContain(fixture.host.port);
    expect(targets.length).toBeGreaterThan(0);
    expect(reached).toEqual([]);
  }, 180_000);

  it("reaches neither another sandbox's app nor the daemons", async () => {
    const { sandbox } = await createSandbox();
    const other = await createSandbox();
    await other.sandbox.startBackground(`node -e "require('http').createServer((q,s)=>s.end('other')).listen(3000)"`, { stdoutPath: 'o', stderrPath: 'e' });
    await waitForPort(other.sandbox.portUrl(3000));

    const reached = await reachable(sandbox, [
      { host: '127.0.0.1', port: 3000 },
      { host: '127.0.0.1', port: 49983 },
      { host: '127.0.0.1', port: fixture.host.port },
    ]);

    expect(reached).toEqual([]);
  });

  it('serves two sandboxes whose apps both listen on port 3000, each through its own port URL', async () => {
    const first = await createSandbox();
    const second = await createSandbox();

    for (const [index, { sandbox }] of [first, second].entries()) {
      await sandbox.startBackground(`node -e "require('http').createServer((q,s)=>s.end('app ${index}')).listen(3000)"`, { stdoutPath: 'o', stderrPath: 'e' });
    }
    const answers = await Promise.all([first, second].map(async ({ sandbox }) => (await waitForPort(sandbox.portUrl(3000))).text()));

    expect(answers).toEqual(['app 0', 'app 1']);
  });

  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['::1', '::1'],
    ['localhost', 'localhost'],
  ])('reaches an app bound only to %s through the port URL', async (_label, address) => {
    const { sandbox } = await createSandbox();

    await sandbox.startBackground(`node -e "require('http').createServer((q,s)=>s.end('bound to ${address}')).listen(8080, '${address}')"`, { stdoutPath: 'o', stderrPath: 'e' });
    const answer = await waitForPort(sandbox.portUrl(8080));

    expect(await answer.text()).toBe(`bound to ${address}`);
  });

  it('answers 502 on a port nothing listens on', async () => {
    const { sandbox } = await createSandbox();

    const answer = await fetch(sandbox.portUrl(4321));

    expect(answer.status).toBe(502);
    expect(await answer.text()).toContain('port 4321 is not open');
  });
});

describe('the daemon', () => {
  it('refuses calls without the access token for a secure sandbox (401)', async () => {
    const { sandboxId, accessToken } = await createSandbox({ secure: true });
    const daemon = `https://49983-${sandboxId}.${fixture.host.domain}`;

    const withoutToken = await fetch(`${daemon}/health`);
    const wrongToken = await fetch(`${daemon}/health`, { headers: { 'x-access-token': 'not-the-token' } });
    const withToken = await fetch(`${daemon}/health`, { headers: { 'x-access-token': accessToken! } });

    expect(accessToken).toBeTruthy();
    expect(withoutToken.status).toBe(401);
    expect(wrongToken.status).toBe(401);
    expect(withToken.status).toBe(204);
  });
});

describe('the host escape through env', () => {
  async function fakeHelpers(): Promise<{ dir: string; ran: () => Promise<string[]> }> {
    const dir = await mkdtemp(join(scratch, 'fake-path-'));
    for (const tool of ['nsenter', 'bwrap', 'setpriv', 'unshare', 'bash', 'sh', 'mount', 'umount', 'node', 'env']) {
      await writeFile(join(dir, tool), `#!/bin/sh\ntouch ${dir}/ran-${tool}\n`);
      await chmod(join(dir, tool), 0o755);
    }
    return { dir, ran: async () => (await readdir(dir)).filter((name) => name.startsWith('ran-')) };
  }

  it('never runs a program from the PATH a command sets, with either launcher', async () => {
    const fake = await fakeHelpers();
    const { sandbox } = await createSandbox();

    const isolated = await sandbox.run('echo $PATH', { env: { PATH: fake.dir } });
    // The unsafe launcher, on a host of its own (its routing replaces this file's until it stops).
    const namespaces = await startLocalHostFixture({ isolation: 'namespaces', announce: () => {} });
    let unsafeRun;
    try {
      const unsafeProvider = new AgentSphereProvider({ apiKey: namespaces.host.apiKey, domain: namespaces.host.domain });
      const unsafe = await unsafeProvider.create({ metadata: { userId: 'escape', projectId: 'escape', deploymentId: randomUUID() }, lifetimeSeconds: 60 });
      unsafeRun = await unsafe.run('echo ran', { env: { PATH: fake.dir } });
      await unsafe.kill();
    } finally {
      await namespaces.stop();
    }

    expect(isolated.stdout.trim()).toBe(fake.dir);
    expect(unsafeRun.stdout.trim()).toBe('ran');
    expect(await fake.ran()).toEqual([]);
  });

  it.skipIf(!existsSync('/usr/bin/cc'))('never loads a library that LD_PRELOAD names into a host program', async () => {
    const dir = await mkdtemp(join(scratch, 'preload-'));
    await writeFile(join(dir, 'evil.c'), `#include <stdio.h>\n__attribute__((constructor)) static void evil(void) { FILE *f = fopen("${dir}/loaded", "a"); if (f) { fputs("x", f); fclose(f); } }\n`);
    execFileSync('/usr/bin/cc', ['-shared', '-fPIC', '-o', join(dir, 'evil.so'), join(dir, 'evil.c')]);
    const { sandbox } = await createSandbox();

    const result = await sandbox.run('echo "$LD_PRELOAD"', { env: { LD_PRELOAD: join(dir, 'evil.so') } });

    expect(result.stdout.trim()).toBe(join(dir, 'evil.so'));
    expect(existsSync(join(dir, 'loaded'))).toBe(false);
  });
});

describe('limits', () => {
  it.skipIf(!asRoot)('stops a process storm at the cap, and the host stays fine', async () => {
    const { sandbox } = await createSandbox({ limits: { processes: 64 } });
    // 200 forks without retrying (bash would retry each failed fork for seconds).
    await sandbox.writeFiles([{ path: '/tmp/storm.py', content: [
      'import os, time',
      'started = refused = 0',
      'for _ in range(200):',
      '    try:',
      '        pid = os.fork()',
      '    except OSError:',
      '        refused += 1',
      '        continue',
      '    if pid == 0:',
      '        time.sleep(60)',
      '        os._exit(0)',
      '    started += 1',
      "print(started, refused, len([p for p in os.listdir('/proc') if p.isdigit()]), open('/sys/fs/cgroup/pids/pids.max').read().strip())",
    ].join('\n') }]);

    const storm = await run(sandbox, 'python3 /tmp/storm.py', 90_000);
    const hostStillForks = execFileSync('/bin/echo', ['host fine']).toString();

    const [started, refused, inSandbox, cap] = storm.stdout.trim().split(' ').map(Number);
    expect(cap).toBe(64);
    expect(started).toBeLessThan(64);
    expect(refused).toBeGreaterThan(100);
    expect(inSandbox).toBeLessThanOrEqual(64);
    expect(hostStillForks).toBe('host fine\n');
    await sandbox.kill();
  }, 120_000);

  it.skipIf(!asRoot)('kills a memory hog at the cap, shows the kill in its memory cgroup, and keeps running', async () => {
    const { sandbox } = await createSandbox({ limits: { memoryBytes: 192 * MiB } });

    const hog = await run(sandbox, `node -e "const a=[]; for(;;) a.push(Buffer.alloc(1<<20, 1))"; echo "exit=$?"`, 90_000);
    const cgroup = await run(sandbox, "cat /sys/fs/cgroup/memory/memory.limit_in_bytes; grep '^oom_kill ' /sys/fs/cgroup/memory/memory.oom_control; cat /sys/fs/cgroup/memory/memory.max_usage_in_bytes");

    const [limit, oomKill, maxUsage] = cgroup.stdout.trim().split('\n');
    expect(hog.stdout).toContain('exit=137');
    expect(Number(limit)).toBe(192 * MiB);
    expect(oomKill).toMatch(/^oom_kill [1-9]\d*$/);
    expect(Number(maxUsage)).toBeGreaterThan(150 * MiB);
    expect(await sandbox.isAlive()).toBe(true);
  }, 120_000);

  it.skipIf(!asRoot)('ends a write past the disk quota with ENOSPC', async () => {
    const { sandbox } = await createSandbox({ limits: { diskBytes: 64 * MiB } });

    const write = await run(sandbox, 'dd if=/dev/zero of=/home/user/big bs=1M count=200 2>&1; df -k /home/user | tail -1', 60_000);

    expect(write.stdout).toContain('No space left on device');
  });

  it('ends a file past the file-size limit with EFBIG', async () => {
    const { sandbox } = await createSandbox({ limits: { fileSizeBytes: 8 * MiB } });

    const write = await run(sandbox, `python3 -c "
import errno
try:
    open('/tmp/big', 'wb').write(b'x' * (16 * 1024 * 1024))
except OSError as error:
    print(errno.errorcode[error.errno])"`);

    expect(write.stdout.trim()).toBe('EFBIG');
  });

  it.skipIf(!asRoot)('caps the CPU share', async () => {
    const { sandbox } = await createSandbox({ limits: { cpus: 0.5 } });

    const quota = await run(sandbox, 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us');

    expect(quota.stdout).toBe('50000\n100000\n');
  });

  it('refuses a limits object it does not know with 400', async () => {
    const answer = await fetch(`https://api.${fixture.host.domain}/sandboxes`, {
      method: 'POST',
      headers: { 'x-api-key': fixture.host.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ templateID: 'base', limits: { memoryBytes: 'lots' } }),
    });

    expect(answer.status).toBe(400);
  });
});

describe('egress', () => {
  it('refuses a host that is not on the allow-list (403 from the proxy) and any direct connection', async () => {
    const { sandbox } = await createSandbox();

    const viaProxy = await run(sandbox, 'curl -sS --max-time 20 https://example.com/ -o /dev/null 2>&1; echo "exit=$?"');
    const direct = await run(sandbox, 'curl -sS --noproxy "*" --max-time 5 https://104.16.0.1/ -o /dev/null 2>&1; echo "exit=$?"');
    const plainHttp = await run(sandbox, 'curl -sS --max-time 20 -o /dev/null -w "%{http_code}" http://example.com/');

    expect(viaProxy.stdout).toMatch(/403/);
    expect(viaProxy.stdout).not.toContain('exit=0');
    expect(direct.stdout).not.toContain('exit=0');
    expect(plainHttp.stdout).toBe('403');
  });

  it('installs a real npm dependency through the proxy', async () => {
    const { sandbox } = await createSandbox();
    await sandbox.writeFiles([{ path: 'app/package.json', content: JSON.stringify({ name: 'escape-app', version: '1.0.0', dependencies: { ms: '2.1.3' } }) }]);

    const install = await sandbox.run('cd app && npm install --no-audit --no-fund && node -e "console.log(require(\'ms\')(60000))"', { timeoutMs: 120_000 });

    expect(install.exitCode, install.stderr).toBe(0);
    expect(install.stdout.trim().split('\n').at(-1)).toBe('1m');
  }, 150_000);

  it('runs yarn 1 and pnpm 9 fetched by npx', async () => {
    const { sandbox } = await createSandbox();

    const yarn = await sandbox.run('npx --yes yarn@1 --version', { timeoutMs: 120_000 });
    const pnpm = await sandbox.run('npx --yes pnpm@9 --version', { timeoutMs: 120_000 });

    expect(yarn.stdout.trim().split('\n').at(-1)).toMatch(/^1\.\d+\.\d+$/);
    expect(pnpm.stdout.trim().split('\n').at(-1)).toMatch(/^9\.\d+\.\d+$/);
  }, 250_000);
});
