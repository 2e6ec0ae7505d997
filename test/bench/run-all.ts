/**
 * `npm run bench`: every `bench:*` script of package.json in turn, each as its own process with a
 * time limit, then one table of every headline figure with its goal and whether it is met. A
 * script that fails or times out is reported and the run goes on; the exit code is 1 if any did.
 *
 *   npm run bench [-- --only cost,overhead] [--quick] [--timeout-minutes 30] [--list]
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { colorsFor } from '../../cli/format.ts';
import { PROJECT_ROOT } from '../../infra/project-root.ts';
import { parseHeadlines } from './bench-headline.ts';
import { figureTable, scriptTable, type ScriptOutcome, type ScriptResult } from './bench-report.ts';
import { discoverBenchScripts, quickArguments, scriptFile, selectBenchScripts, type BenchScript } from './bench-scripts.ts';

/** After SIGTERM, how long a timed-out script has to stop its stack before SIGKILL. */
const KILL_GRACE_MS = 15_000;

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean', default: false },
    'timeout-minutes': { type: 'string', default: '30' },
    list: { type: 'boolean', default: false },
  },
});
const timeoutMinutes = Number(values['timeout-minutes']);
if (!(timeoutMinutes > 0)) throw new RangeError(`--timeout-minutes must be a positive number, not ${values['timeout-minutes']}`);

const packageJson = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { scripts?: Record<string, string> };
const scripts = selectBenchScripts(discoverBenchScripts(packageJson), values.only);
if (values.list) {
  for (const script of scripts) console.log(`${script.name.padEnd(20)} ${script.command}`);
  process.exit(0);
}

async function argumentsFor(script: BenchScript): Promise<{ args: string[]; skippedArgs: string[] }> {
  if (!values.quick) return { args: [], skippedArgs: [] };
  const file = scriptFile(script.command);
  const source = file ? await readFile(join(PROJECT_ROOT, file), 'utf8').catch(() => undefined) : undefined;
  const { args, unsupported } = quickArguments(script.name, source);
  return { args, skippedArgs: unsupported };
}

/** Runs one script through npm in its own process group, passing its output through and keeping a copy. */
function runScript(script: BenchScript, args: string[]): Promise<{ outcome: ScriptOutcome; output: string }> {
  const npmArgs = ['run', '--silent', script.name, ...(args.length ? ['--', ...args] : [])];
  const child = spawn('npm', npmArgs, { cwd: PROJECT_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    process.stdout.write(chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch {
      // already gone
    }
  };
  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    console.error(`\n[bench] ${script.name} ran past ${timeoutMinutes} min: stopping it`);
    signalGroup('SIGTERM');
    killTimer = setTimeout(() => signalGroup('SIGKILL'), KILL_GRACE_MS);
  }, timeoutMinutes * 60_000);
  // Ctrl-C stops the script that runs, then the runner.
  const forward = () => signalGroup('SIGINT');
  process.once('SIGINT', forward);
  return new Promise((resolve) => {
    child.once('close', (exitCode, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      process.removeListener('SIGINT', forward);
      // Whatever the script left in its group (a server it started) goes with it.
      signalGroup('SIGKILL');
      const outcome: ScriptOutcome = timedOut
        ? { kind: 'timed out', minutes: timeoutMinutes }
        : exitCode === 0
          ? { kind: 'ok' }
          : { kind: 'failed', exitCode, signal };
      resolve({ outcome, output });
    });
  });
}

const results: ScriptResult[] = [];
let interrupted = false;
process.once('SIGINT', () => (interrupted = true));
for (const script of scripts) {
  if (interrupted) break;
  const { args, skippedArgs } = await argumentsFor(script);
  console.log(`\n=== ${script.name}${args.length ? ` ${args.join(' ')}` : ''}`);
  const started = performance.now();
  const { outcome: ran, output } = await runScript(script, args);
  let outcome = ran;
  let headlines: ScriptResult['headlines'] = [];
  try {
    headlines = parseHeadlines(output);
  } catch (error) {
    if (outcome.kind === 'ok') outcome = { kind: 'bad headline', message: (error as Error).message };
  }
  results.push({ name: script.name, args, skippedArgs, outcome, headlines, seconds: (performance.now() - started) / 1000 });
}

const colors = colorsFor(process.stdout);
console.log(`\n${colors.bold('=== bench scripts')}${values.quick ? ' (--quick: fewer runs, smaller inputs)' : ''}`);
console.log(scriptTable(results, colors));
console.log(`\n${colors.bold('=== headline figures')}`);
console.log(figureTable(results, colors));
process.exitCode = results.some((result) => result.outcome.kind !== 'ok') || interrupted ? 1 : 0;
