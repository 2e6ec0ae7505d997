/**
 * The dependency cache, on the local stack with every component real (installs from the npm
 * registry through the egress proxy, archives through s3rver's gate). Per app and run, a new
 * owner (so the first install is a miss):
 *   1. a fresh deploy (install, then the archive saved in the background; the benchmark waits
 *      for the save before going on);
 *   2. a second deploy of the unchanged lockfile into a new sandbox (a cache hit);
 *   3. a redeploy into that live sandbox with the unchanged lockfile (node_modules kept).
 * Figures: second ÷ first (goal ≤ 0.4) and redeploy ÷ fresh (goal ≤ 0.2), medians of the runs,
 * each time from POST /deployments to RUNNING. The last line is `BENCH {...}` for an aggregator.
 *
 * Apps: Express (yarn), Nest (npm, with a build), and with-lockfile (one npm dependency, the
 * app of bench:redeploy with a lockfile).
 *
 *   npm run bench:cache [-- --runs 3 --apps express-yarn,nest,with-lockfile]
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { dependencyCacheObjectKey } from '../../functions/shared/adapters/s3-dependency-cache.ts';
import { loadSynthesizedStack } from '../../infra/local/synthesized-stack.ts';
import { startLocalStack } from '../../infra/local/local-stack.ts';
import { CORPUS, corpusApp, corpusFiles } from '../support/app-corpus.ts';
import { projectFiles } from '../support/project-files.ts';
import { median } from './statistics.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, apps: { type: 'string', default: 'express-yarn,nest,with-lockfile' } } });
const runs = Number(values.runs);
const apps = values.apps!.split(',');
const GOALS = { secondOverFirst: 0.4, redeployOverFresh: 0.2 };

const stack = await startLocalStack({
  synthesized: await loadSynthesizedStack(),
  probeIntervalMs: 200,
  environment: {
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    HEALTH_TIMEOUT_SECONDS: '120',
    QUOTA_DEPLOYMENTS_PER_MINUTE: '100000',
  },
});

interface Deployed {
  ms: number;
  /** STARTING -> CHECKING_HEALTH: the start step (install or restore, build, start). */
  startStepMs: number;
  /** Milliseconds in each saga step, from the status timestamps. */
  phases: Record<'create' | 'upload' | 'start' | 'health', number>;
  deployment: any;
}

function phasesOf(timestamps: Record<string, string>): Deployed['phases'] {
  const at = (status: string) => Date.parse(timestamps[status]!);
  return {
    create: at('UPLOADING') - at('PENDING'),
    upload: at('STARTING') - at('UPLOADING'),
    start: at('CHECKING_HEALTH') - at('STARTING'),
    health: at('RUNNING') - at('CHECKING_HEALTH'),
  };
}

async function deployAndWait(headers: Record<string, string>, body: unknown): Promise<Deployed> {
  const started = performance.now();
  const answer = await fetch(`${stack.apiUrl}/deployments`, { method: 'POST', headers, body: JSON.stringify(body) });
  const accepted = (await answer.json()) as any;
  if (answer.status !== 202) throw new Error(`POST /deployments answered ${answer.status}: ${JSON.stringify(accepted)}`);
  for (;;) {
    const deployment = (await (await fetch(`${stack.apiUrl}/deployments/${accepted.deploymentId}`, { headers })).json()) as any;
    if (deployment.status === 'RUNNING') {
      const { STARTING, CHECKING_HEALTH } = deployment.timestamps;
      return { ms: performance.now() - started, startStepMs: Date.parse(CHECKING_HEALTH) - Date.parse(STARTING), phases: phasesOf(deployment.timestamps), deployment };
    }
    if (deployment.status === 'FAILED') throw new Error(`${accepted.deploymentId} failed: ${JSON.stringify(deployment.error)}`);
    await sleep(50);
  }
}

/** Waits for the background save of the first deploy's install; answers how long it took after RUNNING. */
async function savedAfter(userId: string, key: string, runningAt: number): Promise<number> {
  const objectKey = dependencyCacheObjectKey(userId, key, 'tar.zst');
  const gzipKey = dependencyCacheObjectKey(userId, key, 'tar.gz');
  const deadline = Date.now() + 600_000;
  for (;;) {
    const saved = stack.s3CreatedObjects().find((object) => object.key === objectKey || object.key === gzipKey);
    if (saved) return performance.now() - runningAt;
    if (Date.now() > deadline) throw new Error(`the archive ${objectKey} was never saved`);
    await sleep(100);
  }
}

const results: Record<string, any> = {};
try {
  for (const name of apps) {
    // A corpus app (test/fixtures/apps/real), or one of the small fixtures (with-lockfile: one npm dependency, locked).
    const files = CORPUS.some((app) => app.name === name) ? await corpusFiles(corpusApp(name)) : await projectFiles(name);
    const first: number[] = [];
    const second: number[] = [];
    const redeploy: number[] = [];
    const startSteps = { first: [] as number[], second: [] as number[], redeploy: [] as number[] };
    const phases = { first: [] as Deployed['phases'][], second: [] as Deployed['phases'][], redeploy: [] as Deployed['phases'][] };
    const saves: number[] = [];
    const installs: number[] = [];
    const restores: number[] = [];
    let archiveBytes = 0;
    for (let run = 0; run < runs; run++) {
      const userId = `bench-cache-${name}-${run}-${Date.now()}`;
      const headers = { authorization: `Bearer ${await stack.issueToken(userId)}`, 'content-type': 'application/json' };
      const fresh = await deployAndWait(headers, { projectId: `${name}-first`, files });
      if (fresh.deployment.dependencies?.cache !== 'miss') throw new Error(`the first deploy was not a miss: ${JSON.stringify(fresh.deployment.dependencies)}`);
      saves.push(await savedAfter(userId, fresh.deployment.dependencies.key, performance.now()));
      const hit = await deployAndWait(headers, { projectId: `${name}-second`, files });
      if (hit.deployment.dependencies?.source !== 'cache') throw new Error(`the second deploy was not restored from cache: ${JSON.stringify(hit.deployment.dependencies)}`);
      archiveBytes = hit.deployment.dependencies.archive?.bytes ?? 0;
      installs.push(fresh.deployment.dependencies.durationMs ?? 0);
      restores.push(hit.deployment.dependencies.durationMs ?? 0);
      const kept = await deployAndWait(headers, { projectId: `${name}-second`, files, reuse: true });
      if (kept.deployment.dependencies?.source !== 'kept-from-previous-deployment') throw new Error(`the redeploy did not keep node_modules: ${JSON.stringify(kept.deployment.dependencies)}`);
      if (kept.deployment.sandboxId !== hit.deployment.sandboxId) throw new Error('the redeploy did not reuse the sandbox');
      first.push(fresh.ms);
      second.push(hit.ms);
      redeploy.push(kept.ms);
      startSteps.first.push(fresh.startStepMs);
      startSteps.second.push(hit.startStepMs);
      startSteps.redeploy.push(kept.startStepMs);
      phases.first.push(fresh.phases);
      phases.second.push(hit.phases);
      phases.redeploy.push(kept.phases);
      for (const deployment of [fresh.deployment, kept.deployment]) {
        await fetch(`${stack.apiUrl}/deployments/${deployment.deploymentId}`, { method: 'DELETE', headers });
      }
    }
    const figures = {
      runs,
      firstMs: Math.round(median(first)),
      secondMs: Math.round(median(second)),
      redeployMs: Math.round(median(redeploy)),
      secondOverFirst: Number((median(second) / median(first)).toFixed(3)),
      redeployOverFresh: Number((median(redeploy) / median(first)).toFixed(3)),
      startStepMs: { first: Math.round(median(startSteps.first)), second: Math.round(median(startSteps.second)), redeploy: Math.round(median(startSteps.redeploy)) },
      saveAfterRunningMs: Math.round(median(saves)),
      installMs: Math.round(median(installs)),
      restoreMs: Math.round(median(restores)),
      archiveBytes,
      phasesMs: Object.fromEntries(
        Object.entries(phases).map(([which, list]) => [
          which,
          Object.fromEntries((['create', 'upload', 'start', 'health'] as const).map((phase) => [phase, Math.round(median(list.map((entry) => entry[phase])))])),
        ]),
      ),
    };
    results[name] = figures;
    const list = (values: number[]) => values.map((ms) => ms.toFixed(0)).join(', ');
    console.log(`${name}:`);
    console.log(`  first deploy (npm registry install, then saved in the background): ${list(first)} ms; median ${figures.firstMs} ms (start step ${figures.startStepMs.first} ms)`);
    console.log(`  install ${figures.installMs} ms, restore ${figures.restoreMs} ms (medians); archive ${(archiveBytes / 1024 / 1024).toFixed(1)} MiB, saved ${figures.saveAfterRunningMs} ms after RUNNING`);
    console.log(`  second deploy, new sandbox (cache hit):  ${list(second)} ms; median ${figures.secondMs} ms (start step ${figures.startStepMs.second} ms)`);
    console.log(`  redeploy into the live sandbox (kept):   ${list(redeploy)} ms; median ${figures.redeployMs} ms (start step ${figures.startStepMs.redeploy} ms)`);
    for (const [which, steps] of Object.entries(figures.phasesMs)) {
      console.log(`  ${which.padEnd(8)} by step (medians): ${Object.entries(steps).map(([phase, ms]) => `${phase} ${ms} ms`).join(', ')}`);
    }
    console.log(`  second ÷ first:    ${figures.secondOverFirst.toFixed(2)} (goal ≤ ${GOALS.secondOverFirst})`);
    console.log(`  redeploy ÷ fresh:  ${figures.redeployOverFresh.toFixed(2)} (goal ≤ ${GOALS.redeployOverFresh})`);
  }
  console.log(`BENCH ${JSON.stringify({ name: 'cache', goals: GOALS, apps: results })}`);
} finally {
  await stack.stop();
}
