/**
 * Deployment logs against the real local sandbox host through the production AgentSphere
 * adapter: install and app output captured with timestamps, then collected with one command.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { APP_DIR, APP_STDERR_LOG, APP_STDOUT_LOG, INSTALL_LOG, LOG_DIR } from '../../functions/shared/deployments/app-layout.ts';
import { collectLogs } from '../../functions/shared/deployments/logs/collect-logs.ts';
import type { LogEntry } from '../../functions/shared/deployments/logs/log-entry.ts';
import { timestampedBackgroundCommand, timestampedCommand } from '../../functions/shared/deployments/logs/timestamp-lines.ts';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import type { SandboxHandle } from '../../functions/shared/sandbox/sandbox-provider.ts';
import { startLocalHostFixture, type LocalHostFixture } from '../support/local-sandbox-host.ts';

const ODD_LOG = `logs/sub dir/odd $(touch pwned) 'q'.log`;
const APP_SOURCE = `
console.log('app started');
console.error('app warning');
setInterval(() => {}, 1000);
`;

let fixture: LocalHostFixture;
let provider: AgentSphereProvider;
let sandbox: SandboxHandle;
let npmLogStart: Date;

beforeAll(async () => {
  fixture = await startLocalHostFixture();
  provider = new AgentSphereProvider({ apiKey: fixture.host.apiKey, domain: fixture.host.domain });
  sandbox = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 120 });
  await deployLikeStartApp(sandbox);
  await writeForeignLogs(sandbox);
});

afterAll(async () => {
  await sandbox?.kill();
  await fixture?.stop();
});

function metadataFor(): { userId: string; projectId: string; deploymentId: string } {
  return { userId: `user-${randomUUID()}`, projectId: 'project-1', deploymentId: randomUUID() };
}

/** What start-app.ts does, with the timestamp wrappers: an install, then the app in the background. */
async function deployLikeStartApp(target: SandboxHandle): Promise<void> {
  await target.writeFiles([{ path: `${APP_DIR}/server.js`, content: APP_SOURCE }]);
  await target.makeDir(LOG_DIR);
  const install = await target.run(`${timestampedCommand("echo 'installing deps'; echo 'install warning' >&2")} >> ${INSTALL_LOG} 2>&1`, {
    cwd: APP_DIR,
  });
  expect(install.exitCode).toBe(0);
  await target.startBackground(timestampedBackgroundCommand('node server.js'), {
    cwd: APP_DIR,
    stdoutPath: APP_STDOUT_LOG,
    stderrPath: APP_STDERR_LOG,
  });
  await waitForText(target, APP_STDOUT_LOG, 'app started');
  await waitForText(target, APP_STDERR_LOG, 'app warning');
}

/** An npm debug log (named by its start time, 1 s ago) and an app log file with an odd name. */
async function writeForeignLogs(target: SandboxHandle): Promise<void> {
  npmLogStart = new Date(Date.now() - 1000);
  const npmName = npmLogStart.toISOString().replace(/[:.]/g, '_');
  await target.writeFiles([
    { path: `/home/user/.npm/_logs/${npmName}-debug-0.log`, content: '0 verbose cli /usr/bin/node /usr/bin/npm\n1 info ok\n' },
    { path: `${APP_DIR}/${ODD_LOG}`, content: `${new Date().toISOString()} request served\n    at continuation line\n` },
    { path: `${APP_DIR}/logs/ignored.txt`, content: 'not a .log file\n' },
  ]);
}

async function waitForText(target: SandboxHandle, path: string, text: string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const content = await target.readFile(path).then((bytes) => new TextDecoder().decode(bytes), () => '');
    if (content.includes(text)) return;
    await sleep(50);
  }
  throw new Error(`${path} never contained "${text}"`);
}

function find(entries: LogEntry[], line: string): LogEntry {
  const entry = entries.find((candidate) => candidate.line === line);
  if (!entry) throw new Error(`no entry "${line}" in ${JSON.stringify(entries, null, 2)}`);
  return entry;
}

describe('collectLogs in a real sandbox', () => {
  it('merges install, app, npm and app log file lines in time order with one command', async () => {
    // Prepare
    const run = vi.spyOn(sandbox, 'run');

    // Act
    const entries = await collectLogs(sandbox, { appLogGlob: 'logs/**/*.log', includeNpmDebug: true });

    // Assert
    expect(run).toHaveBeenCalledTimes(1);
    run.mockRestore();
    const installed = find(entries, 'installing deps');
    const started = find(entries, 'app started');
    expect(installed).toMatchObject({ source: 'install', timestampSource: 'line' });
    expect(find(entries, 'install warning')).toMatchObject({ source: 'install', timestampSource: 'line' });
    expect(started).toMatchObject({ source: 'app', timestampSource: 'line' });
    expect(find(entries, 'app warning')).toMatchObject({ source: 'app-error', timestampSource: 'line' });
    expect(entries.indexOf(installed)).toBeLessThan(entries.indexOf(started));
    expect(installed.timestamp <= started.timestamp).toBe(true);
    const times = entries.map((entry) => Date.parse(entry.timestamp));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(find(entries, '1 info ok')).toEqual({
      timestamp: npmLogStart.toISOString(),
      source: 'npm',
      line: '1 info ok',
      timestampSource: 'file-name',
    });
    expect(find(entries, '    at continuation line')).toMatchObject({ source: `file:${ODD_LOG}`, timestampSource: 'nearby-line' });
    expect(entries.map((entry) => entry.line)).not.toContain('not a .log file');
  });

  it('skips the sources this sandbox does not have (journal, PM2) and runs nothing from file names', async () => {
    const entries = await collectLogs(sandbox, { appLogGlob: 'logs/**/*.log', includeNpmDebug: true });

    const sources = new Set(entries.map((entry) => entry.source));
    expect(sources).toEqual(new Set(['install', 'app', 'app-error', 'npm', `file:${ODD_LOG}`]));
    const pwned = await sandbox.run(`find /home/user /tmp -name pwned 2>/dev/null | head -1`);
    expect(pwned.stdout).toBe('');
  });

  it("leaves npm's debug log out by default", async () => {
    const entries = await collectLogs(sandbox, { appLogGlob: 'logs/**/*.log' });

    expect(entries.map((entry) => entry.source)).not.toContain('npm');
  });

  it('keeps only lines at or after since', async () => {
    const all = await collectLogs(sandbox);
    const since = new Date(find(all, 'app started').timestamp);

    const entries = await collectLogs(sandbox, { since });

    expect(entries.map((entry) => entry.line)).toContain('app started');
    expect(entries.map((entry) => entry.line)).not.toContain('installing deps');
    expect(entries.every((entry) => Date.parse(entry.timestamp) >= since.getTime())).toBe(true);
  });

  it('keeps only the newest `lines` lines', async () => {
    const all = await collectLogs(sandbox, { appLogGlob: 'logs/**/*.log' });

    const entries = await collectLogs(sandbox, { appLogGlob: 'logs/**/*.log', lines: 2 });

    expect(entries).toEqual(all.slice(-2));
  });

  it('returns nothing, without error, from a sandbox with no logs at all', async () => {
    const empty = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });

    const entries = await collectLogs(empty, { appLogGlob: 'logs/**/*.log' });

    expect(entries).toEqual([]);
    await empty.kill();
  });
});

describe('the background timestamp wrapper', () => {
  it('keeps the reported pid alive exactly as long as the app', async () => {
    // Prepare
    const target = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });
    const command = `node -e "console.log('short-lived'); setTimeout(() => {}, 1500)"`;

    // Act
    const { pid } = await target.startBackground(timestampedBackgroundCommand(command), {
      stdoutPath: APP_STDOUT_LOG,
      stderrPath: APP_STDERR_LOG,
    });
    const whileUp = (await target.listProcesses()).map((process) => process.pid);
    await sleep(2_500);
    const afterExit = (await target.listProcesses()).map((process) => process.pid);

    // Assert
    expect(whileUp).toContain(pid);
    expect(afterExit).not.toContain(pid);
    expect(new TextDecoder().decode(await target.readFile(APP_STDOUT_LOG))).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z short-lived\n$/);
    expect((await target.run(`ps -eo stat=,comm= | awk '$1 !~ /^Z/ && $2 == "perl"'`)).stdout).toBe('');
    await target.kill();
  });

  it('leaves neither the app nor its filters behind when the reported pid is killed', async () => {
    const target = await provider.create({ metadata: metadataFor(), lifetimeSeconds: 60 });
    const { pid } = await target.startBackground(timestampedBackgroundCommand('node -e "setInterval(() => {}, 1000)"'), {
      stdoutPath: APP_STDOUT_LOG,
      stderrPath: APP_STDERR_LOG,
    });
    await sleep(300);

    await target.killProcess(pid);
    await sleep(300);

    // A killed process may stay a zombie until the host reaps it: only live ones count.
    const live = await target.run(`ps -eo stat=,comm= | awk '$1 !~ /^Z/ && ($2 == "node" || $2 == "perl")'`);
    expect(live.stdout).toBe('');
    await target.kill();
  });
});
