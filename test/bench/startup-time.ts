/**
 * `npm start` until ready: with the synthesized template reused (sources unchanged) vs
 * synthesized again on every start (what it did before the cache). Wall time from spawning the
 * process to its "ready" line, median of N runs each; the state lives in a temporary directory.
 *
 *   npm run bench:startup [-- --runs 5]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../../infra/project-root.ts';
import { median } from './statistics.ts';
import { printHeadline } from './bench-headline.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);

async function startOnce(cacheDir: string): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, ['infra/local/main.ts', '--port', '0', '--sweep-interval', '0'], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, HOME: cacheDir, CODERUNNER_SYNTH_CACHE_DIR: cacheDir, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('local stack ready in')) resolve(performance.now() - started);
    });
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code} before it was ready:\n${output}`)));
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
  return ready;
}

const warmCache = await mkdtemp(join(tmpdir(), 'bench-synth-warm-'));
await startOnce(warmCache); // fills the cache
const cold: number[] = [];
const warm: number[] = [];
for (let run = 0; run < runs; run++) {
  const coldCache = await mkdtemp(join(tmpdir(), 'bench-synth-cold-'));
  cold.push(await startOnce(coldCache));
  await rm(coldCache, { recursive: true, force: true });
  warm.push(await startOnce(warmCache));
}
await rm(warmCache, { recursive: true, force: true });

const coldMs = median(cold);
const warmMs = median(warm);
console.log(`npm start until ready, median of ${runs}:`);
console.log(`  synthesizing every start (before): ${(coldMs / 1000).toFixed(2)} s`);
console.log(`  template reused (sources unchanged): ${(warmMs / 1000).toFixed(2)} s`);
console.log(`  ratio reused / synthesized: ${(warmMs / coldMs).toFixed(2)} (goal <= 0.35)`);
printHeadline('startup', { reusedOverSynthesized: warmMs / coldMs, reusedSeconds: warmMs / 1000 });
