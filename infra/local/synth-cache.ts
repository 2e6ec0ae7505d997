/**
 * Reuses the synthesized stack while what it is made from is unchanged. Synthesizing costs most
 * of `npm start`'s start-up (loading aws-cdk-lib and building the stack: 5-7 s here); the result
 * depends only on the CDK app's sources, what they import from functions/, cdk.json, the locked
 * dependency versions and the context. Their contents are hashed; a changed file is a new key.
 */
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

export interface SynthCacheOptions<Result> {
  projectRoot: string;
  /** Files and directories (relative to the root) whose contents the result depends on. */
  inputs: readonly string[];
  /** Where cached results live. */
  cacheDir: string;
  /** Anything else the result depends on (e.g. the CDK context). */
  salt?: unknown;
  synthesize(): Promise<Result>;
  /** How many results to keep (older keys are removed). */
  keep?: number;
}

export interface CachedResult<Result> {
  result: Result;
  hit: boolean;
  key: string;
}

export async function cachedSynthesis<Result>(options: SynthCacheOptions<Result>): Promise<CachedResult<Result>> {
  const key = await inputsKey(options.projectRoot, options.inputs, options.salt);
  const file = join(options.cacheDir, `${key}.json`);
  const cached = await readFile(file, 'utf8').then((text) => JSON.parse(text) as Result, () => undefined);
  if (cached !== undefined) return { result: cached, hit: true, key };
  const result = await options.synthesize();
  await mkdir(options.cacheDir, { recursive: true });
  // Written whole, then renamed: a concurrent reader never sees half a file.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, JSON.stringify(result));
  await rename(partial, file);
  await prune(options.cacheDir, options.keep ?? 3, `${key}.json`);
  return { result, hit: false, key };
}

/** sha256 over every input file's path and contents, in a stable order. */
export async function inputsKey(projectRoot: string, inputs: readonly string[], salt: unknown = null): Promise<string> {
  const hash = createHash('sha256');
  hash.update(JSON.stringify(salt ?? null));
  const files = (await Promise.all(inputs.map((input) => listFiles(join(projectRoot, input))))).flat().sort();
  for (const path of files) {
    hash.update(`\0${relative(projectRoot, path)}\0`);
    hash.update(await readFile(path));
  }
  return hash.digest('hex').slice(0, 32);
}

async function listFiles(path: string): Promise<string[]> {
  const entries = await readdir(path, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOTDIR') return undefined;
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (entries === undefined) return [path];
  const nested = await Promise.all(
    entries.filter((entry) => entry.name !== 'node_modules').map((entry) => (entry.isDirectory() ? listFiles(join(path, entry.name)) : [join(path, entry.name)])),
  );
  return nested.flat();
}

/** Keeps the newest `keep` results (by modification order of the names given). */
async function prune(cacheDir: string, keep: number, current: string): Promise<void> {
  const names = (await readdir(cacheDir)).filter((name) => name.endsWith('.json') && name !== current);
  if (names.length < keep) return;
  const { stat } = await import('node:fs/promises');
  const dated = await Promise.all(names.map(async (name) => ({ name, time: (await stat(join(cacheDir, name))).mtimeMs })));
  dated.sort((a, b) => b.time - a.time);
  await Promise.all(dated.slice(keep - 1).map(({ name }) => rm(join(cacheDir, name), { force: true })));
}
