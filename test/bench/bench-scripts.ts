/**
 * The benchmark scripts `npm run bench` runs: every `bench:*` script of package.json, in the order
 * written there, so a new one is picked up as soon as it is added. `--only` selects some of them
 * by name (`cost` or `bench:cost`); `--quick` gives each its quick arguments, as far as the script
 * declares those options.
 */

export const BENCH_SCRIPT_PREFIX = 'bench:';

export interface BenchScript {
  /** The npm script name, `bench:cost`. */
  name: string;
  /** Its command line in package.json. */
  command: string;
}

export class UnknownBenchScriptError extends Error {
  constructor(names: string[], known: string[]) {
    super(`no such bench script: ${names.join(', ')} (known: ${known.join(', ') || 'none'})`);
    this.name = 'UnknownBenchScriptError';
  }
}

export function discoverBenchScripts(packageJson: { scripts?: Record<string, string> }): BenchScript[] {
  return Object.entries(packageJson.scripts ?? {})
    .filter(([name]) => name.startsWith(BENCH_SCRIPT_PREFIX) && name.length > BENCH_SCRIPT_PREFIX.length)
    .map(([name, command]) => ({ name, command }));
}

/** The scripts named in `only` (comma-separated, with or without `bench:`), in package.json order; all without it. */
export function selectBenchScripts(scripts: BenchScript[], only: string | undefined): BenchScript[] {
  if (!only) return scripts;
  const wanted = only
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean)
    .map((name) => (name.startsWith(BENCH_SCRIPT_PREFIX) ? name : `${BENCH_SCRIPT_PREFIX}${name}`));
  const unknown = wanted.filter((name) => !scripts.some((script) => script.name === name));
  if (unknown.length) throw new UnknownBenchScriptError(unknown, scripts.map((script) => script.name));
  return scripts.filter((script) => wanted.includes(script.name));
}

/**
 * What each script gets under `--quick`: fewer runs and smaller inputs, same measurements.
 * Entries may name scripts that do not exist (yet); they are used when the script appears.
 */
export const QUICK_ARGS: Record<string, string[]> = {
  'bench:sweep': ['--records', '5000', '--expired', '20'],
  'bench:redeploy': ['--runs', '1'],
  'bench:startup': ['--runs', '1'],
  'bench:bundles': ['--runs', '1'],
  'bench:corpus': ['--only', 'static-site,procfile-app,missing-dependency,wrong-port'],
  'bench:synth': ['--runs', '1'],
  'bench:isolation': ['--runs', '3', '--batch', '5'],
  'bench:overhead': ['--runs', '3', '--concurrent', '5'],
  'bench:large': ['--runs', '1'],
  'bench:cost': ['--runs', '1'],
  'bench:cache': ['--runs', '1'],
};

/** The `.ts` file a script's command runs (`node test/bench/x.ts ...`), if any. */
export function scriptFile(command: string): string | undefined {
  return command.split(/\s+/).find((word) => word.endsWith('.ts') || word.endsWith('.mjs') || word.endsWith('.js'));
}

/** The long options a script declares to `parseArgs` (`runs: { type: 'string' ...}`). */
export function declaredOptions(source: string): Set<string> {
  const names = new Set<string>();
  for (const match of source.matchAll(/['"]?([a-z][a-z0-9-]*)['"]?\s*:\s*\{\s*type\s*:\s*['"](?:string|boolean)['"]/g)) names.add(match[1]!);
  return names;
}

export interface QuickArguments {
  args: string[];
  /** Quick options the script does not declare, left out. */
  unsupported: string[];
}

/**
 * The quick arguments for a script, keeping only options its source declares: a script that
 * gained or lost an option is run with what it understands.
 */
export function quickArguments(scriptName: string, source: string | undefined, quickArgs: Record<string, string[]> = QUICK_ARGS): QuickArguments {
  const wanted = quickArgs[scriptName] ?? [];
  if (!wanted.length || source === undefined) return { args: [], unsupported: source === undefined ? optionNames(wanted) : [] };
  const declared = declaredOptions(source);
  const args: string[] = [];
  const unsupported: string[] = [];
  for (let index = 0; index < wanted.length; index++) {
    const option = wanted[index]!;
    const value = wanted[index + 1] !== undefined && !wanted[index + 1]!.startsWith('--') ? wanted[++index] : undefined;
    const name = option.replace(/^--/, '');
    if (!declared.has(name)) {
      unsupported.push(option);
      continue;
    }
    args.push(option, ...(value !== undefined ? [value] : []));
  }
  return { args, unsupported };
}

function optionNames(args: string[]): string[] {
  return args.filter((arg) => arg.startsWith('--'));
}
