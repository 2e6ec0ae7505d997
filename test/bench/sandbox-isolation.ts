/**
 * What real isolation costs: the bubblewrap launcher (the default) against the namespace launcher
 * (pid+mount namespaces only), median of N runs each, on the real local sandbox host.
 * - create: until a command has run in the new sandbox, and until a Node HTTP server started in
 *   it answers through the host's port proxy;
 * - kill: until every process is gone and what the sandbox held is freed;
 * - per connection: a new TCP connection and one HTTP request through the port proxy, against the
 *   same server run directly on the host's loopback (each sample: the mean of a batch).
 *
 *   npm run bench:isolation [-- --runs 10 --batch 20]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { LocalSandbox } from '../../infra/local/sandbox-host/local-sandbox.ts';
import { resolveLimits } from '../../infra/local/sandbox-host/sandbox-limits.ts';
import { startSandboxHost, type SandboxHost } from '../../infra/local/sandbox-host/sandbox-host.ts';
import type { IsolationMode } from '../../infra/local/sandbox-host/sandbox-isolation.ts';
import { printHeadline } from './bench-headline.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' }, batch: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const batch = Number(values.batch);
const SERVER = (port: number) => `node -e "require('http').createServer((q,s)=>s.end('ok')).listen(${port})"`;

const median = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function runCommand(sandbox: LocalSandbox, command: string, background = false): Promise<void> {
  return sandbox.startProcess({ cmd: '/bin/bash', args: ['-l', '-c', command], envs: {} }, { deadlineMs: null, stdin: false }).then((started) =>
    background ? undefined : new Promise<void>((resolve) => started.on('event', (event) => 'end' in event && resolve())),
  );
}

/** One HTTP GET on a new connection; `hostHeader` routes it through the sandbox host's port proxy. */
function get(port: number, hostHeader?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const call = request({ host: '127.0.0.1', port, path: '/', agent: false, headers: hostHeader ? { host: hostHeader } : {} }, (answer) => {
      answer.resume();
      answer.once('end', () => (answer.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`status ${answer.statusCode}`))));
    });
    call.once('error', reject);
    call.end();
  });
}

async function until(check: () => Promise<unknown>): Promise<void> {
  for (;;) {
    if (await check().then(() => true, () => false)) return;
    await sleep(2);
  }
}

async function meanOfBatch(call: () => Promise<number>): Promise<number> {
  let total = 0;
  for (let index = 0; index < batch; index++) total += await call();
  return total / batch;
}

interface Figures {
  command: number;
  http: number;
  kill: number;
  proxied: number;
}

async function measure(isolation: IsolationMode): Promise<Figures> {
  const stateDir = await mkdtemp(join(tmpdir(), `coderunner-bench-${isolation}-`));
  const host: SandboxHost = await startSandboxHost({ stateDir, isolation, announce: () => {} });
  const samples = { command: [] as number[], http: [] as number[], kill: [] as number[], proxied: [] as number[] };
  try {
    for (let run = 0; run < runs + 1; run++) {
      const port = isolation === 'namespaces' ? await freePort() : 3000;
      const started = performance.now();
      const sandbox = await host.registry.create({ templateId: 'base', metadata: {}, envVars: {}, lifetimeMs: 120_000, secure: false, limits: resolveLimits('base', undefined) });
      await runCommand(sandbox, 'true');
      const commandDone = performance.now();
      await runCommand(sandbox, SERVER(port), true);
      const hostHeader = `${port}-${sandbox.fullId}.${host.domain}`;
      await until(() => get(host.port, hostHeader));
      const httpDone = performance.now();
      const proxied = await meanOfBatch(() => get(host.port, hostHeader));
      const killStarted = performance.now();
      await host.registry.kill(sandbox.sandboxId);
      const killed = performance.now();
      // The first run warms caches (page cache, the agent bundle): not counted.
      if (run === 0) continue;
      samples.command.push(commandDone - started);
      samples.http.push(httpDone - started);
      samples.proxied.push(proxied);
      samples.kill.push(killed - killStarted);
    }
  } finally {
    await host.close();
    await rm(stateDir, { recursive: true, force: true });
  }
  return { command: median(samples.command), http: median(samples.http), kill: median(samples.kill), proxied: median(samples.proxied) };
}

/** The same server as a plain host process on loopback: the cost of a connection with no proxy. */
async function measureDirect(): Promise<number> {
  const port = await freePort();
  const server = spawn(process.execPath, ['-e', `require('http').createServer((q,s)=>s.end('ok')).listen(${port}, '127.0.0.1')`], { stdio: 'ignore' });
  try {
    await until(() => get(port));
    const samples: number[] = [];
    for (let run = 0; run < runs; run++) samples.push(await meanOfBatch(() => get(port)));
    return median(samples);
  } finally {
    server.kill('SIGKILL');
  }
}

const bubblewrap = await measure('bubblewrap');
const namespaces = await measure('namespaces');
const direct = await measureDirect();

const ms = (value: number) => `${value.toFixed(1)} ms`;
const ratio = (value: number, base: number) => `${(value / base).toFixed(2)}x`;
const rows: [string, number, number][] = [
  ['create until a command has run', bubblewrap.command, namespaces.command],
  ['create until a Node HTTP server answers', bubblewrap.http, namespaces.http],
  ['kill', bubblewrap.kill, namespaces.kill],
  ['new connection + one HTTP request via the port proxy', bubblewrap.proxied, namespaces.proxied],
];
console.log(`sandbox isolation, median of ${runs} runs (per-connection figures: mean of ${batch} requests per run)\n`);
console.log(`${'measure'.padEnd(56)}${'bubblewrap'.padStart(12)}${'namespaces'.padStart(12)}${'ratio'.padStart(8)}`);
for (const [name, isolated, unsafe] of rows) {
  console.log(`${name.padEnd(56)}${ms(isolated).padStart(12)}${ms(unsafe).padStart(12)}${ratio(isolated, unsafe).padStart(8)}`);
}
console.log(`${'new connection + one HTTP request, direct on loopback'.padEnd(56)}${ms(direct).padStart(12)}`);
console.log(`\nport proxy per connection vs direct: bubblewrap ${ratio(bubblewrap.proxied, direct)}, namespaces ${ratio(namespaces.proxied, direct)}`);
printHeadline('isolation', {
  createOverNamespaces: bubblewrap.http / namespaces.http,
  killOverNamespaces: bubblewrap.kill / namespaces.kill,
  proxyOverDirect: bubblewrap.proxied / direct,
});
