/**
 * Per-handler bundles: the size of each Lambda's bundle, built the way the CDK stack builds it
 * (esbuild, ESM, minified, the AWS SDK left to the runtime), and its module init time (a fresh
 * Node process importing the bundle, median of N), against an empty handler.
 *
 *   npm run bench:bundles [-- --runs 5]
 */
import { spawnSync } from 'node:child_process';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { HANDLERS, type HandlerName } from '../../infra/cdk/handlers.ts';
import { LAMBDA_BUNDLING } from '../../infra/cdk/lambda-bundling.ts';
import { PROJECT_ROOT } from '../../infra/project-root.ts';
import { median } from './statistics.ts';
import { printHeadline } from './bench-headline.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
/** Module init of `GET /deployments/{id}` when issue 12 was filed: the low end of its 200-350 ms, so the ratio is not flattered. */
const GET_DEPLOYMENT_INIT_BEFORE_MS = 200;
// Inside the project, so the bundles find the AWS SDK in node_modules as Lambda's runtime provides it.
const outDir = join(PROJECT_ROOT, '.coderunner', 'bench-bundles');
await rm(outDir, { recursive: true, force: true });
await mkdir(outDir, { recursive: true });
const emptyEntry = join(outDir, 'empty-handler.ts');
await writeFile(emptyEntry, 'export const handler = async () => ({ statusCode: 200 });\n');

const environment = {
  ...process.env,
  AWS_REGION: 'us-east-1',
  DEPLOYMENTS_TABLE: 'bench',
  IDEMPOTENCY_TABLE: 'bench',
  STAGING_BUCKET: 'bench',
  STATE_MACHINE_ARN: 'arn:aws:states:us-east-1:000000000000:stateMachine:bench',
  AGENTSPHERE_API_KEY_SECRET: 'bench',
  POWERTOOLS_SERVICE_NAME: 'coderunner',
  POWERTOOLS_METRICS_NAMESPACE: 'CodeRunner',
};

async function bundle(name: string, entry: string): Promise<{ file: string; bytes: number }> {
  const file = join(outDir, `${name}.mjs`);
  await build({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    minify: LAMBDA_BUNDLING.minify,
    target: LAMBDA_BUNDLING.target,
    mainFields: [...LAMBDA_BUNDLING.mainFields],
    external: [...LAMBDA_BUNDLING.externalModules],
    banner: { js: LAMBDA_BUNDLING.banner },
    logLevel: 'error',
  });
  return { file, bytes: (await stat(file)).size };
}

/** Milliseconds to import the bundle in a fresh process (what a cold start pays for init). */
function initMs(file: string): number {
  const samples: number[] = [];
  for (let run = 0; run < runs; run++) {
    const script = `const t=performance.now();await import(${JSON.stringify(file)});console.log(performance.now()-t)`;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { env: environment, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`importing ${file} failed: ${result.stderr}`);
    samples.push(Number(result.stdout.trim()));
  }
  return median(samples);
}

const rows: { name: string; kb: number; ms: number }[] = [];
const empty = await bundle('empty', emptyEntry);
rows.push({ name: '(empty handler)', kb: empty.bytes / 1024, ms: initMs(empty.file) });
for (const name of Object.keys(HANDLERS) as HandlerName[]) {
  const { file, bytes } = await bundle(name, join(PROJECT_ROOT, HANDLERS[name]));
  rows.push({ name, kb: bytes / 1024, ms: initMs(file) });
}
await rm(outDir, { recursive: true, force: true });

console.log(`bundle size (minified, AWS SDK external) and module init (median of ${runs} fresh processes):`);
for (const row of rows) console.log(`  ${row.name.padEnd(24)} ${row.kb.toFixed(0).padStart(5)} KB  ${row.ms.toFixed(0).padStart(5)} ms`);

const handlerRows = rows.filter((row) => row.name !== '(empty handler)');
const getDeployment = rows.find((row) => row.name === 'apiGetDeployment')!;
printHeadline('bundles', {
  largestBundleKB: Math.max(...handlerRows.map((row) => row.kb)),
  getDeploymentBundleKB: getDeployment.kb,
  getDeploymentInitMs: getDeployment.ms,
  getDeploymentInitOverBefore: getDeployment.ms / GET_DEPLOYMENT_INIT_BEFORE_MS,
});
