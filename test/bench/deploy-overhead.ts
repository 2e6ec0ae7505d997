/**
 * What the service adds to a deployment, against the same sandbox host:
 * - the hello app through `POST /deployments` until RUNNING ÷ the SDK calls done directly
 *   (create, write one file, start in the background, first 200 through the port URL), median
 *   of N, run alternately so both see the same machine;
 * - 20 concurrent hello deployments: p95 of POST→RUNNING ÷ a single one, and nothing leaked.
 *
 *   npm run bench:overhead [-- --runs 7 --concurrent 20]
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { randomUUID } from 'node:crypto';
import { TERMINAL_STATUSES, type DeploymentStatus } from '../../functions/shared/deployments/deployment-status.ts';
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import { startLocalStack } from '../../infra/local/local-stack.ts';
import { loadSynthesizedStack } from '../../infra/local/synthesized-stack.ts';
import { FIXTURE_APPS } from '../support/project-files.ts';
import { median, percentile } from './statistics.ts';
import { printHeadline } from './bench-headline.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, concurrent: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const concurrent = Number(values.concurrent);

/**
 * Deployments that reached RUNNING or ended, from the bus's status-change events: the bench waits
 * on them instead of polling the API, whose load (a JWT check and a read per poll, 20 deployments
 * at once) would be measured along with the deployments.
 */
const settled = new Map<string, string>();
const waiting = new Map<string, (status: string) => void>();
const SETTLED = new Set<string>(['RUNNING', ...TERMINAL_STATUSES]);

const stack = await startLocalStack({
  synthesized: await loadSynthesizedStack(),
  onDeploymentEvent: (event) => {
    if (!SETTLED.has(event.status) || settled.has(event.deploymentId)) return;
    settled.set(event.deploymentId, event.status);
    waiting.get(event.deploymentId)?.(event.status);
  },
  environment: {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    QUOTA_LIVE_SANDBOXES: '1000',
    QUOTA_DEPLOYMENTS_IN_FLIGHT: '1000',
    QUOTA_DEPLOYMENTS_PER_MINUTE: '100000',
  },
});
const host = stack.sandboxHost!;
const provider = new AgentSphereProvider({ apiKey: host.apiKey, domain: host.sdkDomain, appUrlScheme: 'http' });
const token = await stack.issueToken('bench');
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const serverJs = await readFile(`${FIXTURE_APPS}hello-node/server.js`, 'utf8');
const body = JSON.stringify({ projectId: 'hello', files: [{ path: 'server.js', content: serverJs }], options: { startCommand: 'node server.js' } });

/** The SDK calls a deployment needs, made directly: the floor the service is measured against. */
async function direct(): Promise<number> {
  const started = performance.now();
  const sandbox = await provider.create({ metadata: { userId: 'bench', projectId: 'direct', deploymentId: randomUUID() }, lifetimeSeconds: 300 });
  await sandbox.writeFiles([{ path: '/home/user/app/server.js', content: serverJs }]);
  await sandbox.startBackground('node server.js', { cwd: '/home/user/app', env: { PORT: '3000' }, stdoutPath: '/tmp/out.log', stderrPath: '/tmp/err.log' });
  const url = `${sandbox.portUrl(3000)}/health`;
  for (;;) {
    const response = await fetch(url).catch(() => undefined);
    if (response?.status === 200) break;
    await sleep(5);
  }
  const elapsed = performance.now() - started;
  await sandbox.kill();
  return elapsed;
}

/** Until the deployment is TERMINATED (or another end), at most 30 s. */
async function whenEnded(deploymentId: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const view = (await (await fetch(`${stack.apiUrl}/deployments/${deploymentId}`, { headers })).json()) as { status: string };
    if (TERMINAL_STATUSES.has(view.status as DeploymentStatus)) return;
    await sleep(100);
  }
}

function whenSettled(deploymentId: string): Promise<string> {
  const status = settled.get(deploymentId);
  if (status) return Promise.resolve(status);
  return new Promise((resolve) => waiting.set(deploymentId, resolve));
}

/** POST /deployments until the record says RUNNING (its own timestamp, same clock). */
async function throughApi(): Promise<{ ms: number; deploymentId: string }> {
  const postedAt = Date.now();
  const accepted = (await (await fetch(`${stack.apiUrl}/deployments`, { method: 'POST', headers, body })).json()) as { deploymentId: string };
  await whenSettled(accepted.deploymentId);
  const view = (await (await fetch(`${stack.apiUrl}/deployments/${accepted.deploymentId}`, { headers })).json()) as { status: string; timestamps: Record<string, string>; error?: unknown };
  if (view.status !== 'RUNNING') throw new Error(`deployment ended ${view.status}: ${JSON.stringify(view.error)}`);
  return { ms: Date.parse(view.timestamps.RUNNING!) - postedAt, deploymentId: accepted.deploymentId };
}

async function remove(deploymentId: string): Promise<void> {
  await fetch(`${stack.apiUrl}/deployments/${deploymentId}`, { method: 'DELETE', headers });
}

try {
  // Warm up both paths (module loading, first connections).
  await direct();
  await remove((await throughApi()).deploymentId);

  const directMs: number[] = [];
  const apiMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    directMs.push(await direct());
    const { ms, deploymentId } = await throughApi();
    apiMs.push(ms);
    await remove(deploymentId);
  }
  const single = median(apiMs);
  console.log(`hello app, median of ${runs} (same sandbox host):`);
  console.log(`  SDK calls done directly:       ${median(directMs).toFixed(0)} ms  (${directMs.map((ms) => ms.toFixed(0)).join(', ')})`);
  console.log(`  POST /deployments → RUNNING:   ${single.toFixed(0)} ms  (${apiMs.map((ms) => ms.toFixed(0)).join(', ')})`);
  console.log(`  ratio: ${(single / median(directMs)).toFixed(2)}× (goal ≤ 1.3×; before: 16.8×)`);

  const results = await Promise.all(Array.from({ length: concurrent }, () => throughApi()));
  const times = results.map((result) => result.ms);
  await Promise.all(results.map((result) => remove(result.deploymentId)));
  // Each DELETE ends its deployment once its sandbox is gone: wait for every one (bounded).
  await Promise.all(results.map((result) => whenEnded(result.deploymentId)));
  const left = host.registry.list().length;
  console.log(`${concurrent} concurrent hello deployments:`);
  console.log(`  POST → RUNNING p50 ${median(times).toFixed(0)} ms, p95 ${percentile(times, 95).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`);
  console.log(`  p95 ÷ single: ${(percentile(times, 95) / single).toFixed(2)} (goal ≤ 3); sandboxes left after deleting them all: ${left}`);

  // The floor under the same load: the sandbox host creating 20 sandboxes at once, without the service.
  const directTimes = await Promise.all(Array.from({ length: concurrent }, () => direct()));
  const directSingle = median(directMs);
  console.log(`${concurrent} concurrent direct SDK runs (the sandbox host's own share of that load):`);
  console.log(`  p50 ${median(directTimes).toFixed(0)} ms, p95 ${percentile(directTimes, 95).toFixed(0)} ms; p95 ÷ single direct: ${(percentile(directTimes, 95) / directSingle).toFixed(2)}`);
  console.log(`  service's p95 ÷ direct p95 at ${concurrent} at once: ${(percentile(times, 95) / percentile(directTimes, 95)).toFixed(2)}`);
  printHeadline('overhead', {
    postToRunningOverDirect: single / median(directMs),
    concurrentP95OverSingle: percentile(times, 95) / single,
    concurrentDirectP95OverSingleDirect: percentile(directTimes, 95) / directSingle,
    concurrentServiceP95OverDirectP95: percentile(times, 95) / percentile(directTimes, 95),
    sandboxesLeft: left,
  });
} finally {
  await stack.stop();
}
