/**
 * Fresh deployment vs redeploy into the live sandbox (reuse: true), median of N runs each, on the
 * local stack with every component real. The app has one npm dependency and an install command,
 * so the redeploy also shows the benefit of the node_modules it keeps.
 *
 *   npm run bench:redeploy [-- --runs 5]
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSynthesizedStack } from '../../infra/local/synthesized-stack.ts';
import { startLocalStack } from '../../infra/local/local-stack.ts';
import { projectFiles } from '../support/project-files.ts';
import { median } from './statistics.ts';
import { printHeadline } from './bench-headline.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const stack = await startLocalStack({
  synthesized: await loadSynthesizedStack(),
  probeIntervalMs: 200,
  environment: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
});
const token = await stack.issueToken('bench');
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const files = await projectFiles('with-dependency');

async function deployAndWait(body: unknown): Promise<{ ms: number; deployment: any }> {
  const started = performance.now();
  const accepted = (await (await fetch(`${stack.apiUrl}/deployments`, { method: 'POST', headers, body: JSON.stringify(body) })).json()) as any;
  for (;;) {
    const deployment = (await (await fetch(`${stack.apiUrl}/deployments/${accepted.deploymentId}`, { headers })).json()) as any;
    if (deployment.status === 'RUNNING') return { ms: performance.now() - started, deployment };
    if (deployment.status === 'FAILED') throw new Error(JSON.stringify(deployment.error));
    await sleep(50);
  }
}


const fresh: number[] = [];
const redeploy: number[] = [];
try {
  for (let run = 0; run < runs; run++) {
    const port = 41_000 + run;
    const options = { port, installCommand: 'npm install --no-audit --no-fund', healthPath: '/' };
    const first = await deployAndWait({ projectId: `bench-${run}`, files, options });
    fresh.push(first.ms);
    const second = await deployAndWait({ projectId: `bench-${run}`, files, options, reuse: true });
    if (second.deployment.sandboxId !== first.deployment.sandboxId) throw new Error('the redeploy did not reuse the sandbox');
    redeploy.push(second.ms);
    await fetch(`${stack.apiUrl}/deployments/${second.deployment.deploymentId}`, { method: 'DELETE', headers });
  }
} finally {
  // A failed run still stops the stack, and with it every sandbox.
  await stack.stop();
}
console.log(`fresh deploy (create + upload + npm install + start + health): ${fresh.map((ms) => ms.toFixed(0)).join(', ')} ms; median ${median(fresh).toFixed(0)} ms`);
console.log(`redeploy into the live sandbox (reuse: true):                  ${redeploy.map((ms) => ms.toFixed(0)).join(', ')} ms; median ${median(redeploy).toFixed(0)} ms`);
console.log(`redeploy / fresh: ${(median(redeploy) / median(fresh)).toFixed(2)}`);
printHeadline('redeploy', { redeployOverFresh: median(redeploy) / median(fresh) });
