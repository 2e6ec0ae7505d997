/**
 * How long the in-process CDK synth takes (no bundling), each run in a fresh Node process as
 * `npm start` pays it: the local stack's synth (no cdk-nag), and the same synth with cdk-nag's
 * AWS Solutions checks applied (what the CDK template test and `npx cdk synth` add). Medians of N.
 *
 *   npm run bench:synth [-- --runs 5]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

type Mode = 'local' | 'checked';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, child: { type: 'string' } } });

/** One measured synth in this process; prints `{ importMs, synthMs }`. */
async function measureOnce(mode: Mode): Promise<void> {
  const started = performance.now();
  if (mode === 'local') {
    const { synthesizeStack } = await import('../../infra/local/synthesized-stack.ts');
    const imported = performance.now();
    synthesizeStack();
    console.log(JSON.stringify({ importMs: imported - started, synthMs: performance.now() - imported }));
    return;
  }
  const { buildApp } = await import('../../infra/cdk/app.ts');
  const { applyNagChecks } = await import('../../infra/cdk/nag-checks.ts');
  const imported = performance.now();
  const { app } = buildApp({ bundle: false });
  applyNagChecks(app);
  app.synth();
  console.log(JSON.stringify({ importMs: imported - started, synthMs: performance.now() - imported }));
}

function measureInFreshProcesses(mode: Mode, runs: number): { importMs: number; synthMs: number } {
  const samples = Array.from({ length: runs }, () => {
    const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode], { encoding: 'utf8' });
    return JSON.parse(output.trim().split('\n').at(-1)!) as { importMs: number; synthMs: number };
  });
  const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;
  return { importMs: median(samples.map((sample) => sample.importMs)), synthMs: median(samples.map((sample) => sample.synthMs)) };
}

if (values.child) {
  await measureOnce(values.child as Mode);
} else {
  const runs = Number(values.runs);
  for (const mode of ['local', 'checked'] as const) {
    const { importMs, synthMs } = measureInFreshProcesses(mode, runs);
    const label = mode === 'local' ? 'local stack synth (no cdk-nag)' : 'synth with cdk-nag checks';
    console.log(`${label.padEnd(32)} import ${importMs.toFixed(0).padStart(5)} ms  synth ${synthMs.toFixed(0).padStart(5)} ms  (median of ${runs})`);
  }
}
