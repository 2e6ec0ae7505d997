/**
 * How long the in-process CDK synth takes (no bundling), each run in a fresh Node process as
 * `npm start` pays it: the local stack's synth (no cdk-nag), and the same synth with cdk-nag's
 * AWS Solutions checks applied (what the CDK template test and `npx cdk synth` add). Medians of N,
 * as wall time and as the process's CPU time (user + system), which other load on the machine
 * disturbs much less.
 *
 *   npm run bench:synth [-- --runs 5]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { printHeadline } from './bench-headline.ts';

type Mode = 'local' | 'checked';
interface Sample {
  importMs: number;
  synthMs: number;
  cpuMs: number;
}

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' }, child: { type: 'string' } } });

/** One measured synth in this process (imports included in cpuMs); prints a Sample. */
async function measureOnce(mode: Mode): Promise<void> {
  const cpuAtStart = process.cpuUsage();
  const started = performance.now();
  let synthesize: () => unknown;
  if (mode === 'local') {
    const { synthesizeStack } = await import('../../infra/local/synthesized-stack.ts');
    // synthesizeStack loads the CDK app itself; loaded here first, so the import counts as import, not as synth.
    await import('../../infra/cdk/app.ts');
    synthesize = () => synthesizeStack();
  } else {
    const { buildApp } = await import('../../infra/cdk/app.ts');
    const { applyNagChecks } = await import('../../infra/cdk/nag-checks.ts');
    synthesize = () => {
      const { app } = buildApp({ bundle: false });
      applyNagChecks(app);
      app.synth();
    };
  }
  const imported = performance.now();
  // synthesizeStack is async: without the await, only its start was measured.
  await synthesize();
  const cpu = process.cpuUsage(cpuAtStart);
  const sample: Sample = { importMs: imported - started, synthMs: performance.now() - imported, cpuMs: (cpu.user + cpu.system) / 1000 };
  console.log(JSON.stringify(sample));
}

function measureInFreshProcesses(mode: Mode, runs: number): Sample {
  const samples = Array.from({ length: runs }, () => {
    const output = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode], { encoding: 'utf8' });
    return JSON.parse(output.trim().split('\n').at(-1)!) as Sample;
  });
  const median = (numbers: number[]) => [...numbers].sort((a, b) => a - b)[Math.floor(numbers.length / 2)]!;
  return {
    importMs: median(samples.map((sample) => sample.importMs)),
    synthMs: median(samples.map((sample) => sample.synthMs)),
    cpuMs: median(samples.map((sample) => sample.cpuMs)),
  };
}

if (values.child) {
  await measureOnce(values.child as Mode);
} else {
  const runs = Number(values.runs);
  const totals: Partial<Record<Mode, number>> = {};
  for (const mode of ['local', 'checked'] as const) {
    const { importMs, synthMs, cpuMs } = measureInFreshProcesses(mode, runs);
    const label = mode === 'local' ? 'local stack synth (no cdk-nag)' : 'synth with cdk-nag checks';
    const ms = (value: number) => `${value.toFixed(0).padStart(5)} ms`;
    console.log(`${label.padEnd(32)} import ${ms(importMs)}  synth ${ms(synthMs)}  cpu ${ms(cpuMs)}  (median of ${runs})`);
    totals[mode] = importMs + synthMs;
  }
  printHeadline('synth', { localSeconds: totals.local! / 1000, checkedOverLocal: totals.checked! / totals.local! });
}
