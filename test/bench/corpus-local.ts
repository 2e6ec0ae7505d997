/**
 * Runs each fixture app of the corpus the way its build plan says (install, build, start), in a
 * temporary copy, with the machine's own Node (/usr/bin, v20, as local sandboxes run it), and
 * checks what the user would see: the corpus apps serve their page, the failing apps fail for
 * their cause. Prints install/build/start times; --write stores them in corpus.json / cases.json.
 *
 *   npm run bench:corpus [-- --only vite-react,nest] [--runs 3] [--cold] [--write]
 *
 * --cold gives every run an empty npm / yarn / pnpm cache (as a fresh sandbox has); --write keeps
 * the figures of both kinds of run apart (local.emptyCache, local.warmCache).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { printHeadline } from './bench-headline.ts';

const APPS = fileURLToPath(new URL('../fixtures/apps/', import.meta.url));
const CORPUS = join(APPS, 'real', 'corpus.json');
const CASES = join(APPS, 'failing', 'cases.json');
/** The machine's own toolchain, without this repository's node_modules/.bin (Node 24). */
const SANDBOX_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const STEP_TIMEOUT_MS = 180_000;
const READY_TIMEOUT_MS = 60_000;
/** The Host header an app sees behind the sandbox proxy, which forwards headers unchanged. */
const SANDBOX_HOST = (port: number) => `${port}-corpus.agentsphere.test`;
/** How long a failing app that answered is watched for a crash. */
const SETTLE_MS = 5_000;

interface Plan {
  install: string | null;
  build: string | null;
  start: string;
  env: Record<string, string>;
}

interface CorpusApp {
  name: string;
  directory: string;
  deployable: boolean;
  expect: { path: string; text: string; healthRoute: boolean; port?: number };
  plan: Plan;
  localStart?: string;
  local?: unknown;
}

interface FailingCase {
  name: string;
  directory: string;
  failsAt: 'install' | 'start' | 'health';
  plan: Plan;
  outputContains: string[];
  listensOn?: number;
  local?: unknown;
}

interface StepResult {
  ok: boolean;
  ms: number;
  output: string;
}

interface Observation {
  install?: StepResult;
  build?: StepResult;
  startMs?: number;
  status?: number;
  body?: string;
  healthStatus?: number;
  localhostStatus?: number;
  boundAddresses?: string[];
  exitedWith?: string;
  output: string;
}

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    runs: { type: 'string', default: '1' },
    cold: { type: 'boolean', default: false },
    write: { type: 'boolean', default: false },
  },
});
const only = values.only ? new Set(values.only.split(',')) : undefined;
const runs = Number(values.runs);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function sandboxEnv(port: number, plan: Plan, cacheDir: string | undefined): NodeJS.ProcessEnv {
  const caches = cacheDir
    ? { npm_config_cache: join(cacheDir, 'npm'), YARN_CACHE_FOLDER: join(cacheDir, 'yarn'), npm_config_store_dir: join(cacheDir, 'pnpm') }
    : {};
  return { PATH: SANDBOX_PATH, HOME: process.env.HOME, LANG: 'C.UTF-8', PORT: String(port), HOST: '0.0.0.0', ...caches, ...plan.env };
}

function launch(command: string, cwd: string, env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string } {
  const child = spawn('/bin/sh', ['-c', command], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

async function runStep(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<StepResult> {
  const started = performance.now();
  const { child, output } = launch(command, cwd, env);
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => killGroup(child), STEP_TIMEOUT_MS);
    child.once('exit', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  return { ok: code === 0, ms: performance.now() - started, output: output() };
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** node:http, not fetch: fetch does not let a caller set the Host header. */
function get(port: number, path: string, host?: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const request = httpGet({ host: '127.0.0.1', port, path, headers: host ? { host } : {}, timeout: 2_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', () => resolve(undefined));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

/** Local addresses with a listening TCP socket on `port`, from /proc/net/tcp and tcp6. */
async function boundAddresses(port: number): Promise<string[]> {
  const found: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').slice(1);
    for (const line of lines) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== '0A') continue;
      const [addressHex, portHex] = local.split(':');
      if (parseInt(portHex!, 16) !== port) continue;
      found.push(decodeAddress(addressHex!));
    }
  }
  return found;
}

function decodeAddress(hex: string): string {
  if (hex.length === 8) return (hex.match(/../g) ?? []).reverse().map((byte) => parseInt(byte, 16)).join('.');
  if (/^0+$/.test(hex)) return '::';
  if (hex === '00000000000000000000000001000000') return '::1';
  return `[${hex}]`;
}

interface Check {
  path: string;
  text?: string;
  port?: number;
  /** Keep watching this long after the first good answer (for apps that crash later). */
  settleMs?: number;
}

async function observe(sourceDir: string, plan: Plan, startCommand: string, check: Check, cold: boolean): Promise<Observation> {
  const workDir = await mkdtemp(join(tmpdir(), 'corpus-app-'));
  const cacheDir = cold ? await mkdtemp(join(tmpdir(), 'corpus-cache-')) : undefined;
  const appPort = await freePort();
  const env = sandboxEnv(appPort, plan, cacheDir);
  const listenPort = check.port ?? appPort;
  const observation: Observation = { output: '' };
  try {
    await cp(sourceDir, workDir, { recursive: true });
    if (plan.install) {
      observation.install = await runStep(plan.install, workDir, env);
      observation.output += observation.install.output;
      if (!observation.install.ok) return observation;
    }
    if (plan.build) {
      observation.build = await runStep(plan.build, workDir, env);
      observation.output += observation.build.output;
      if (!observation.build.ok) return observation;
    }
    const started = performance.now();
    const { child, output } = launch(startCommand, workDir, env);
    let killed = false;
    child.once('exit', (code, signal) => {
      if (!killed) observation.exitedWith = signal ?? `code ${code}`;
    });
    try {
      const deadline = Date.now() + READY_TIMEOUT_MS;
      while (Date.now() < deadline && observation.exitedWith === undefined) {
        const answer = await get(listenPort, check.path, SANDBOX_HOST(listenPort));
        if (answer) {
          observation.status = answer.status;
          observation.body = answer.body;
          if (answer.status === 200 && (!check.text || answer.body.includes(check.text))) {
            observation.startMs = performance.now() - started;
            break;
          }
        }
        await sleep(100);
      }
      if (observation.startMs !== undefined) {
        observation.healthStatus = (await get(listenPort, '/health', SANDBOX_HOST(listenPort)))?.status;
        observation.localhostStatus = (await get(listenPort, check.path))?.status;
        observation.boundAddresses = await boundAddresses(listenPort);
        const settleUntil = Date.now() + (check.settleMs ?? 0);
        while (Date.now() < settleUntil && observation.exitedWith === undefined) await sleep(100);
      }
      if (observation.exitedWith !== undefined) await sleep(200); // the last lines of a crashed process
    } finally {
      killed = true;
      killGroup(child);
      observation.output += output();
    }
    return observation;
  } finally {
    await rm(workDir, { recursive: true, force: true });
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  }
}

const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)];
const seconds = (ms: number | undefined) => (ms === undefined ? '-' : (ms / 1000).toFixed(1));

function summarize(observations: Observation[]) {
  const pick = (read: (observation: Observation) => number | undefined) => {
    const found = observations.map(read).filter((ms): ms is number => ms !== undefined);
    return found.length ? Math.round(median(found)!) : null;
  };
  const last = observations.at(-1)!;
  return {
    installMs: pick((o) => o.install?.ms),
    buildMs: pick((o) => o.build?.ms),
    startMs: pick((o) => o.startMs),
    totalMs: pick((o) => (o.startMs === undefined ? undefined : (o.install?.ms ?? 0) + (o.build?.ms ?? 0) + o.startMs)),
    healthStatus: last.healthStatus ?? null,
    localhostStatus: last.localhostStatus ?? null,
    boundAddresses: last.boundAddresses ?? null,
  };
}

async function checkCorpusApp(app: CorpusApp): Promise<{ ok: boolean; summary: ReturnType<typeof summarize>; problem?: string }> {
  const observations: Observation[] = [];
  for (let run = 0; run < runs; run++) {
    const observation = await observe(join(APPS, 'real', app.directory), app.plan, app.localStart ?? app.plan.start, app.expect, values.cold!);
    observations.push(observation);
    if (observation.startMs === undefined) {
      const tail = observation.output.split('\n').slice(-15).join('\n');
      return { ok: false, summary: summarize(observations), problem: `status ${observation.status ?? 'none'}, exited ${observation.exitedWith ?? 'no'}\n${tail}` };
    }
  }
  return { ok: true, summary: summarize(observations) };
}

async function checkFailingCase(failing: FailingCase): Promise<{ ok: boolean; failedAt: string; exitedWith: string | null; problem?: string }> {
  const check = { path: '/', settleMs: SETTLE_MS };
  const observation = await observe(join(APPS, 'failing', failing.directory), failing.plan, failing.plan.start, check, false);
  const failedAt =
    observation.install && !observation.install.ok ? 'install'
    : observation.build && !observation.build.ok ? 'build'
    : observation.exitedWith !== undefined ? (observation.startMs === undefined ? 'start' : 'start after it answered')
    : observation.startMs === undefined ? 'health'
    : 'nowhere';
  const seen = `${observation.output}\n${observation.body ?? ''}`;
  const missing = failing.outputContains.filter((text) => !seen.includes(text));
  const ok = failedAt.startsWith(failing.failsAt) && missing.length === 0;
  const problem = ok ? undefined : `failed at ${failedAt}, missing ${JSON.stringify(missing)}\n${seen.slice(-1500)}`;
  return { ok, failedAt, exitedWith: observation.exitedWith ?? null, problem };
}

const corpus = JSON.parse(await readFile(CORPUS, 'utf8')) as { apps: CorpusApp[] };
const cases = JSON.parse(await readFile(CASES, 'utf8')) as { cases: FailingCase[] };
const nodeVersion = await runStep('node --version && npm --version', APPS, { PATH: SANDBOX_PATH, HOME: process.env.HOME });
const load = `load ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores`;
const measuredWith = `node ${nodeVersion.output.split('\n')[0]}, npm ${nodeVersion.output.split('\n')[1]}, ${values.cold ? 'empty' : 'warm'} package caches, ${load}, median of ${runs}`;
console.log(`corpus apps (${measuredWith})`);
console.log('app                 install  build  start  total   /health  localhost  bound');
let failures = 0;
for (const app of corpus.apps) {
  if (!app.deployable || (only && !only.has(app.name))) continue;
  const result = await checkCorpusApp(app);
  const { summary } = result;
  console.log(
    `${app.name.padEnd(18)} ${seconds(summary.installMs ?? undefined).padStart(7)} ${seconds(summary.buildMs ?? undefined).padStart(6)} ${seconds(summary.startMs ?? undefined).padStart(6)} ${seconds(summary.totalMs ?? undefined).padStart(6)}   ${String(summary.healthStatus ?? '-').padStart(7)}  ${String(summary.localhostStatus ?? '-').padStart(9)}  ${(summary.boundAddresses ?? []).join(' ')}${result.ok ? '' : '  FAILED'}`,
  );
  if (!result.ok) {
    failures++;
    console.log(result.problem);
  } else if (values.write) {
    const key = values.cold ? 'emptyCache' : 'warmCache';
    app.local = { ...(app.local as object | undefined), [key]: { measuredWith, ...summary } };
  }
}
console.log('\nfailing apps');
for (const failing of cases.cases) {
  if (only && !only.has(failing.name)) continue;
  const result = await checkFailingCase(failing);
  console.log(`${failing.name.padEnd(18)} failed at ${result.failedAt.padEnd(23)} exited: ${String(result.exitedWith).padEnd(8)} ${result.ok ? 'as expected' : 'UNEXPECTED'}`);
  if (!result.ok) {
    failures++;
    console.log(result.problem);
  } else if (values.write) {
    failing.local = { measuredWith: measuredWith.replace(/, median of \d+$/, ''), failedAt: result.failedAt, exitedWith: result.exitedWith };
  }
}
if (values.write) {
  await writeFile(CORPUS, `${JSON.stringify(corpus, null, 2)}\n`);
  await writeFile(CASES, `${JSON.stringify(cases, null, 2)}\n`);
}
printHeadline('corpus', { failures });
process.exitCode = failures ? 1 : 0;
