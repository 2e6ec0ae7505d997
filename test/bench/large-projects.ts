/**
 * Large projects on the local stack, every component real (s3rver, the saga, the sandbox host):
 * - 1,000 files / 10 MB by manifest: requests to the sandbox's daemon, and the time to upload and
 *   write them ÷ a local `tar -x` of the same files;
 * - a redeploy after one changed file: bytes uploaded ÷ project size.
 * The client side is the CLI's own code (hashing, plan, part upload), run in this process.
 *
 *   npm run bench:large [-- --runs 3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSynthesizedStack } from '../../infra/local/synthesized-stack.ts';
import { startLocalStack } from '../../infra/local/local-stack.ts';
import { listProject } from '../../cli/project-reader.ts';
import { readManifest } from '../../cli/project-manifest.ts';
import { uploadParts } from '../../cli/part-upload.ts';
import { generateLargeProject } from '../support/large-project.ts';
import { median } from './statistics.ts';
import { printHeadline } from './bench-headline.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
const workDir = await mkdtemp(join(tmpdir(), 'bench-large-'));
/** Daemon requests inside the upload steps, per deployment: the window from the first batch's start to the last one's end. */
const uploadWindows = new Map<string, { sandboxId: string; first: number; last: number }>();
function sandboxRequests(sandboxId: string): number {
  return stack.sandboxHost!.registry.list().find((candidate) => candidate.fullId === sandboxId)?.stats.requests ?? 0;
}
const stack: Awaited<ReturnType<typeof startLocalStack>> = await startLocalStack({
  synthesized: await loadSynthesizedStack(),
  probeIntervalMs: 100,
  wrapHandler: (name, handler) => {
    if (name !== 'uploadBatch') return handler;
    return async (event, context) => {
      const { deploymentId } = event as { deploymentId: string };
      const { sandboxId } = await api('GET', `/deployments/${deploymentId}`);
      const window = uploadWindows.get(deploymentId) ?? { sandboxId, first: sandboxRequests(sandboxId), last: 0 };
      uploadWindows.set(deploymentId, window);
      try {
        return await handler(event, context);
      } finally {
        window.last = sandboxRequests(sandboxId);
      }
    };
  },
  environment: { POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_METRICS_DISABLED: 'true' },
});
const token = await stack.issueToken('bench-large');
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

async function api(method: string, path: string, body?: unknown): Promise<any> {
  const response = await fetch(`${stack.apiUrl}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

async function waitFor(deploymentId: string, status: string): Promise<any> {
  for (;;) {
    const deployment = await api('GET', `/deployments/${deploymentId}`);
    if (deployment.status === status) return deployment;
    if (['FAILED', 'TERMINATED'].includes(deployment.status)) throw new Error(JSON.stringify(deployment.error));
    await sleep(20);
  }
}

interface Deployed {
  deployment: any;
  manifestBodyBytes: number;
  uploadMs: number;
  completeMs: number;
  writeMs: number;
  bytesUploaded: number;
  /** Daemon requests of the upload steps (writing the files). */
  uploadRequests: number;
  daemonRequests: number;
}


async function deployByManifest(root: string, projectId: string, reuse: boolean): Promise<Deployed> {
  const listing = await listProject(root);
  const manifest = await readManifest(root, listing, {});
  const body = { projectId, manifest: manifest.entries, options: {}, ...(reuse ? { reuse: true } : {}) };
  const started = performance.now();
  const accepted = await api('POST', '/deployments', body);
  await uploadParts(accepted.upload.parts, manifest.sources);
  const uploaded = performance.now();
  await api('POST', `/deployments/${accepted.deploymentId}/complete`);
  const completed = performance.now();
  const before = reuse ? sandboxRequests((await api('GET', `/deployments/${accepted.deploymentId}`)).sandboxId ?? '') : 0;
  const deployment = await waitFor(accepted.deploymentId, 'RUNNING');
  const window = uploadWindows.get(accepted.deploymentId)!;
  const bytesUploaded = stack
    .s3CreatedObjects()
    .filter((object) => object.key.startsWith(`deployments/${accepted.deploymentId}/uploads/`))
    .reduce((sum, object) => sum + object.size, 0);
  return {
    deployment,
    manifestBodyBytes: Buffer.byteLength(JSON.stringify(body)),
    uploadMs: uploaded - started,
    completeMs: completed - uploaded,
    writeMs: Date.parse(deployment.timestamps.STARTING) - Date.parse(deployment.timestamps.UPLOADING),
    bytesUploaded,
    uploadRequests: window.last - window.first,
    daemonRequests: sandboxRequests(deployment.sandboxId) - before,
  };
}

let untarRuns = 0;
/** Median of 3 `tar -x` of the project into fresh directories, measured right before each deployment (same load). */
function tarExtractMs(root: string): number {
  const archive = join(workDir, 'project.tar');
  execFileSync('tar', ['-cf', archive, '-C', root, '.']);
  const times: number[] = [];
  for (let run = 0; run < 3; run++) {
    const target = join(workDir, `untar-${untarRuns++}`);
    execFileSync('mkdir', ['-p', target]);
    const started = performance.now();
    execFileSync('tar', ['-xf', archive, '-C', target]);
    times.push(performance.now() - started);
  }
  return median(times);
}

try {
  // 1,000 files, 10 MB: small pages of about 10 KB (the mix that costs the most requests per byte).
  const project = await generateLargeProject(join(workDir, 'site'), { binaryBytes: 0, images: 0, smallFiles: 999, smallFileBytes: 10_000 });
  const tarMs: number[] = [];
  const fresh: Deployed[] = [];
  const redeploys: Deployed[] = [];
  for (let run = 0; run < runs; run++) {
    tarMs.push(tarExtractMs(project.root));
    const first = await deployByManifest(project.root, `bench-large-${run}`, false);
    fresh.push(first);
    await writeFile(join(project.root, 'pages/section-01/page-1.html'), `<p>changed in run ${run}</p>\n`);
    const second = await deployByManifest(project.root, `bench-large-${run}`, true);
    if (second.deployment.sandboxId !== first.deployment.sandboxId) throw new Error('the redeploy did not reuse the sandbox');
    redeploys.push(second);
    await api('DELETE', `/deployments/${second.deployment.deploymentId}`);
  }
  const mb = (bytes: number) => (bytes / 1e6).toFixed(2);
  const ms = (values: number[]) => `${median(values).toFixed(0)} ms (${values.map((value) => value.toFixed(0)).join(', ')})`;
  const writeMs = fresh.map((run) => run.writeMs);
  const wholeMs = fresh.map((run) => run.uploadMs + run.completeMs + run.writeMs);
  console.log(`project: ${project.files.size} files, ${mb(project.totalBytes)} MB; median of ${runs} runs`);
  console.log('');
  console.log(`1,000 files / 10 MB, requests to the sandbox while writing the files (upload steps): ${fresh.map((run) => run.uploadRequests).join(', ')} in ${fresh.map((run) => run.deployment.progress.batchesTotal).join(', ')} batch(es) (goal <= 10)`);
  console.log(`  the whole deployment (create, write, start, health): ${fresh.map((run) => run.daemonRequests).join(', ')} daemon requests`);
  const ratio = (times: number[]) => median(times.map((time, run) => time / tarMs[run]!)).toFixed(1);
  console.log(`local tar -x of the same files, right before each run: ${ms(tarMs)}`);
  console.log(`  write into the sandbox (UPLOADING -> STARTING: S3 -> sandbox, unpacked on disk): ${ms(writeMs)}  = ${ratio(writeMs)}x tar -x (median of per-run ratios; goal <= 3x)`);
  console.log(`  client upload to S3 (POST manifest + parts): ${ms(fresh.map((run) => run.uploadMs))}`);
  console.log(`  completion (verify every byte, store, stage writes): ${ms(fresh.map((run) => run.completeMs))}`);
  console.log(`  upload + completion + write: ${ms(wholeMs)}  = ${ratio(wholeMs)}x tar -x`);
  console.log('');
  const uploadedShare = redeploys.map((run) => run.bytesUploaded / project.totalBytes);
  console.log(`redeploy after one changed file: bytes uploaded ${redeploys.map((run) => run.bytesUploaded).join(', ')} / ${project.totalBytes} = ${Math.max(...uploadedShare).toExponential(2)} (goal <= 0.01)`);
  console.log(`  manifest request body: ${mb(median(redeploys.map((run) => run.manifestBodyBytes)))} MB (${(median(redeploys.map((run) => run.manifestBodyBytes)) / project.totalBytes).toFixed(3)} of the project; paths and hashes)`);
  console.log(`  files written: ${redeploys.map((run) => run.deployment.upload.filesToWrite).join(', ')}; upload-step requests: ${redeploys.map((run) => run.uploadRequests).join(', ')}; write step ${ms(redeploys.map((run) => run.writeMs))}`);
  printHeadline('large', {
    sandboxRequestsForFiles: Math.max(...fresh.map((run) => run.uploadRequests)),
    writeOverTarX: Number(ratio(writeMs)),
    redeployBytesShare: Math.max(...uploadedShare),
  });
} finally {
  await stack.stop();
  await rm(workDir, { recursive: true, force: true });
}
