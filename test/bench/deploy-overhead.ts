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
import { AgentSphereProvider } from '../../functions/shared/sandbox/agentsphere/index.ts';
import { startLocalStack } from '../../infra/local/local-stack.ts';
import { loadSynthesizedStack } from '../../infra/local/synthesized-stack.ts';
import { FIXTURE_APPS } from '../support/project-files.ts';
import { median, percentile } from './statistics.ts';
import { printHeadline } from './bench-headline.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, concurrent: { type: 'string', default: '20' } } });
const runs = Number(values.runs);
const concurrent = Number(values.concurrent);

const stack = await startLocalStack({
  synthesized: await loadSynthesizedStack(),
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

/** POST /deployments until the record says RUNNING (its own timestamp, same clock). */
async function throughApi(): Promise<{ ms: number; deploymentId: string }> {
  const postedAt = Date.now();
  const accepted = (await (await fetch(`${stack.apiUrl}/deployments`, { method: 'POST', headers, body })).json()) as { deploymentId: string };
  for (;;) {
    const view = (await (await fetch(`${stack.apiUrl}/deployments/${accepted.deploymentId}`, { headers })).json()) as { status: string; timestamps: Record<string, string>; error?: unknown };
    if (view.status === 'RUNNING') return { ms: Date.parse(view.timestamps.RUNNING!) - postedAt, deploymentId: accepted.deploymentId };
    if (['FAILED', 'TERMINATED', 'EXPIRED', 'LOST'].includes(view.status)) throw new Error(`deployment ended ${view.status}: ${JSON.stringify(view.error)}`);
    await sleep(10);
  }
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
  await sleep(500);
  const left = host.registry.list().length;
  console.log(`${concurrent} concurrent hello deployments:`);
  console.log(`  POST → RUNNING p50 ${median(times).toFixed(0)} ms, p95 ${percentile(times, 95).toFixed(0)} ms, max ${Math.max(...times).toFixed(0)} ms`);
  console.log(`  p95 ÷ single: ${(percentile(times, 95) / single).toFixed(2)} (goal ≤ 3); sandboxes left after deleting them all: ${left}`);
  printHeadline('overhead', {
    postToRunningOverDirect: single / median(directMs),
    concurrentP95OverSingle: percentile(times, 95) / single,
    sandboxesLeft: left,
  });
} finally {
  await stack.stop();
}
