/**
 * `coderunner deploy <dir>`: reads the project, posts it, and follows the deployment step by step
 * until it runs (exit 0, with its URL) or fails (exit 1, with the failed step, the cause and the
 * logs' tail). Ctrl-C asks whether to kill the deployment (on a terminal) or leaves it running.
 */
import { relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApiError, type ApiClient } from '../api-client.ts';
import type { AppOptionsInput, DeploymentRequest, DeploymentView, RequestFile } from '../api-types.ts';
import { isInteractive, printJson, type CommandContext } from '../context.ts';
import { CliError, EXIT_FAILURE, EXIT_INTERRUPTED } from '../errors.ts';
import { formatBytes, formatDuration } from '../format.ts';
import { watchInterrupt } from '../interrupt.ts';
import { DeploymentProgress } from '../progress.ts';
import { checkProjectId, fitsInline, listProject, projectIdFor, readProject } from '../project-reader.ts';
import { readManifest, type ProjectManifest } from '../project-manifest.ts';
import { uploadParts } from '../part-upload.ts';
import { UploadProgress } from '../upload-progress.ts';
import type { BuildPlan } from '../../functions/shared/deployments/build-plan/build-plan.ts';
import type { Colors } from '../format.ts';
import { confirm } from '../prompt.ts';
import { printLogLines } from './logs.ts';
import { PlanError } from '../../functions/shared/deployments/build-plan/plan-error.ts';
import { planDeployment, PREVIEW_SANDBOX_FACTS } from '../../functions/shared/deployments/plan-deployment.ts';
import { inCliTerms } from '../option-terms.ts';
import { formatPlan } from '../plan-view.ts';

export const POLL_INTERVAL_MS = 300;
const FAILURE_LOG_LINES = 20;
/** Polls that may fail in a row (API restarting, network blip) before giving up. */
const MAX_POLL_FAILURES = 10;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface DeployOptions {
  project?: string;
  port?: number;
  start?: string;
  install?: string;
  build?: string;
  dryRun?: boolean;
  env?: string[];
  healthPath?: string;
  timeout?: number;
  reuse?: boolean;
  /** Send a manifest and upload the blobs to S3 even when the project would fit inline. */
  manifest?: boolean;
  json?: boolean;
}

export async function deploy(directory: string, options: DeployOptions, context: CommandContext): Promise<number> {
  const projectId = options.project !== undefined ? checkProjectId(options.project) : projectIdFor(directory);
  const env = parseEnv(options.env ?? [], context.env);
  const listing = await listProject(directory);
  // Past the inline limits (or when asked) the project goes as a manifest, its bytes straight to S3.
  const byManifest = Boolean(options.manifest) || !fitsInline(listing.found);

  const appOptions: AppOptionsInput = {
    ...(options.port !== undefined ? { port: options.port } : {}),
    ...(options.install ? { installCommand: options.install } : {}),
    ...(options.build ? { buildCommand: options.build } : {}),
    ...(options.start ? { startCommand: options.start } : {}),
    ...(Object.keys(env).length > 0 ? { env } : {}),
    ...(options.healthPath ? { healthPath: options.healthPath } : {}),
    ...(options.timeout !== undefined ? { timeoutSeconds: options.timeout } : {}),
  };
  let plan: BuildPlan;
  let filesCount: number;
  let totalBytes: number;
  let submit: (client: ApiClient) => Promise<DeploymentView>;
  if (byManifest) {
    const manifest = await readManifest(directory, listing, { ...appOptions, env });
    ({ plan, totalBytes } = manifest);
    filesCount = manifest.entries.length;
    submit = (client) => submitManifest(client, { projectId, appOptions, reuse: options.reuse, manifest }, context, options);
  } else {
    const project = await readProject(directory);
    const request: DeploymentRequest = { projectId, files: project.files, options: appOptions, ...(options.reuse ? { reuse: true } : {}) };
    // The API's own planning, run here first: what will run is shown before anything is sent.
    plan = planLocally(request, directory);
    filesCount = project.files.length;
    totalBytes = project.totalBytes;
    submit = (client) => client.createDeployment(request);
  }
  if (options.dryRun) {
    if (options.json) printJson(context, { projectId, files: filesCount, bytes: totalBytes, byManifest, plan });
    else context.stdout.write(formatPlan(plan, context.out));
    return 0;
  }
  const client = await context.client();

  const { stderr, err } = context;
  const shownDir = relative(context.cwd, listing.root) || '.';
  const notes = [
    `${filesCount} ${filesCount === 1 ? 'file' : 'files'}, ${formatBytes(totalBytes)}`,
    ...(listing.ignored ? [`${listing.ignored} ignored by .gitignore`] : []),
    ...(listing.skippedLinks.length ? [`${listing.skippedLinks.length} ${listing.skippedLinks.length === 1 ? 'link' : 'links'} to directories or out of the project skipped: ${listing.skippedLinks.slice(0, 3).join(', ')}${listing.skippedLinks.length > 3 ? ', ...' : ''}`] : []),
    ...(byManifest ? ['by manifest'] : []),
  ];
  stderr.write(`Deploying ${err.bold(shownDir)} as project ${err.bold(projectId)} (${notes.join(', ')}) to ${client.config.apiUrl}\n`);
  if (!options.json) stderr.write(formatPlan(plan, err));

  const interrupt = watchInterrupt();
  try {
    const accepted = await submit(client);
    const deploymentId = accepted.deploymentId;
    if (!byManifest) stderr.write(`${err.dim('deployment')} ${deploymentId}${accepted.redeployOf ? err.dim(` (redeploy of ${accepted.redeployOf})`) : ''}\n`);
    // A spinner needs a terminal that knows its width (ora redraws by counting wrapped lines).
    const spinner = Boolean(stderr.isTTY) && (stderr.columns ?? 0) > 0 && !context.env.CI;
    const progress = new DeploymentProgress({ stream: stderr, interactive: spinner, colors: err });
    const final = await follow(client, accepted, progress, interrupt.signal);
    if (!final) {
      progress.pause();
      return await interrupted(client, deploymentId, context);
    }
    progress.end(final);
    if (final.status === 'RUNNING') {
      // The app was found listening on another port than planned.
      if (!options.json && final.plan && final.plan.port.value !== plan.port.value) {
        stderr.write(`${err.yellow('note')} port ${final.plan.port.value}: ${final.plan.port.reason}\n`);
      }
      return await reportRunning(client, final, options, context);
    }
    return await reportFailure(client, final, options, context);
  } finally {
    interrupt.dispose();
  }
}

interface ManifestSubmission {
  projectId: string;
  appOptions: AppOptionsInput;
  reuse: boolean | undefined;
  manifest: ProjectManifest;
}

/**
 * The manifest path: post the manifest, upload the parts of what the service lacks (byte progress,
 * each failed part retried), then complete; the service checks the uploads and starts.
 */
async function submitManifest(client: ApiClient, submission: ManifestSubmission, context: CommandContext, options: DeployOptions): Promise<DeploymentView> {
  const { stderr, err } = context;
  const { manifest } = submission;
  const accepted = await client.createManifestDeployment({
    projectId: submission.projectId,
    manifest: manifest.entries,
    options: submission.appOptions,
    ...(submission.reuse ? { reuse: true } : {}),
  });
  const { upload } = accepted;
  stderr.write(`${err.dim('deployment')} ${accepted.deploymentId}${accepted.redeployOf ? err.dim(` (redeploy of ${accepted.redeployOf})`) : ''}\n`);
  stderr.write(`${uploadSummary(upload, manifest.totalBytes, err)}\n`);
  const interactive = !options.json && Boolean(stderr.isTTY) && (stderr.columns ?? 0) > 0 && !context.env.CI;
  const progress = new UploadProgress({ stream: stderr, interactive, total: upload.bytesToUpload, colors: err });
  try {
    await uploadParts(upload.parts, manifest.sources, { onBytes: (bytes) => progress.add(bytes), onRetry: (part, error) => progress.retried(part, error) });
  } catch (error) {
    progress.stop();
    throw new CliError(`uploading deployment ${accepted.deploymentId} failed: ${(error as Error).message}`, {
      details: [`nothing was started; the deployment ends on its own at ${upload.deadline}`],
      cause: error,
    });
  }
  if (upload.bytesToUpload > 0) progress.end();
  return client.completeUpload(accepted.deploymentId);
}

/** "3 of 1,204 blobs to upload (20.1 MiB); 38.2 MiB already uploaded, skipped". */
export function uploadSummary(upload: { blobsToUpload: number; bytesToUpload: number; bytesHeld: number; filesInManifest: number }, totalBytes: number, colors: Colors): string {
  const skipped = upload.bytesHeld > 0 ? `; ${formatBytes(upload.bytesHeld)} already uploaded, skipped` : '';
  return `${colors.dim('upload')} ${upload.blobsToUpload} ${upload.blobsToUpload === 1 ? 'blob' : 'blobs'} (${formatBytes(upload.bytesToUpload)} of ${formatBytes(totalBytes)})${skipped}`;
}

/** Polls until the deployment runs or ends; undefined when Ctrl-C came first. */
async function follow(client: ApiClient, accepted: DeploymentView, progress: DeploymentProgress, signal: AbortSignal): Promise<DeploymentView | undefined> {
  let view = accepted;
  let failures = 0;
  const startedAt = Date.now();
  progress.update(view);
  while (!isSettled(view)) {
    await sleep(POLL_INTERVAL_MS, undefined, { signal }).catch(() => undefined);
    if (signal.aborted) return undefined;
    try {
      view = await client.getDeployment(view.deploymentId);
      failures = 0;
    } catch (error) {
      // A record just written may not be readable everywhere at once: an early 404 is retried too.
      const retryable = error instanceof ApiError && (error.transient || (error.status === 404 && Date.now() - startedAt < 5_000));
      if (retryable && ++failures < MAX_POLL_FAILURES) continue;
      progress.pause();
      if (error instanceof CliError) {
        throw new CliError(error.message, {
          details: [...error.details, `deployment ${view.deploymentId} may still be going: see \`coderunner status ${view.deploymentId}\``],
          cause: error,
        });
      }
      throw error;
    }
    if (signal.aborted) return undefined;
    progress.update(view);
  }
  return view;
}

function isSettled(view: DeploymentView): boolean {
  return ['RUNNING', 'FAILED', 'TERMINATED', 'EXPIRED', 'LOST'].includes(view.status);
}

async function interrupted(client: ApiClient, deploymentId: string, context: CommandContext): Promise<number> {
  const { stderr, err } = context;
  stderr.write('\n');
  if (!isInteractive(context)) {
    stderr.write(`Interrupted. Deployment ${deploymentId} keeps going (see \`coderunner status ${deploymentId}\`); kill it with: coderunner kill ${deploymentId}\n`);
    return EXIT_INTERRUPTED;
  }
  if (await confirm(`Kill deployment ${deploymentId}? [y/N] `, context.stdin, stderr)) {
    const view = await client.deleteDeployment(deploymentId);
    stderr.write(`${err.yellow('■')} deployment ${deploymentId} is ${view.status}\n`);
  } else {
    stderr.write(`Deployment ${deploymentId} keeps going; kill it later with: coderunner kill ${deploymentId}\n`);
  }
  return EXIT_INTERRUPTED;
}

async function reportRunning(client: ApiClient, view: DeploymentView, options: DeployOptions, context: CommandContext): Promise<number> {
  const browserUrl = view.sandboxId ? await client.browserUrl(view.sandboxId, view.options.port) : undefined;
  if (options.json) {
    printJson(context, { ...view, ...(browserUrl ? { browserUrl } : {}) });
    return 0;
  }
  const { stdout, out } = context;
  const took = view.timestamps.RUNNING ? ` in ${formatDuration(new Date(view.timestamps.RUNNING).getTime() - new Date(view.timestamps.createdAt).getTime())}` : '';
  const lines = [
    `${out.green('✔')} ${out.bold(view.projectId)} is running${took}`,
    `  url:   ${out.cyan(view.url ?? '-')}`,
    ...(browserUrl ? [`  open:  ${out.cyan(browserUrl)}  ${out.dim('(on this machine)')}`] : []),
    `  logs:  coderunner logs ${view.deploymentId} -f`,
    `  kill:  coderunner kill ${view.deploymentId}`,
  ];
  stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function reportFailure(client: ApiClient, view: DeploymentView, options: DeployOptions, context: CommandContext): Promise<number> {
  if (options.json) {
    printJson(context, view);
    return EXIT_FAILURE;
  }
  const { stderr, err } = context;
  if (view.status === 'FAILED' && view.error) {
    stderr.write(`${err.red('✖')} deployment ${view.deploymentId} failed at step ${err.bold(view.error.step)}: ${err.bold(view.error.name)}\n`);
    stderr.write(`${indent(inCliTerms(view.error.message))}\n`);
  } else {
    stderr.write(`${err.red('✖')} deployment ${view.deploymentId} ended ${view.status} before it was running${view.status === 'TERMINATED' ? ' (it was killed)' : ''}\n`);
  }
  // The message already quotes the output lines that name the cause: the logs are pointed to, not repeated.
  if (view.error && /^(?:app )?output:$/m.test(view.error.message)) {
    stderr.write(`${err.dim(`all logs: coderunner logs ${view.deploymentId}`)}\n`);
    return EXIT_FAILURE;
  }
  stderr.write(`${err.dim(`logs (last ${FAILURE_LOG_LINES} lines):`)}\n`);
  try {
    const { lines } = await client.logs(view.deploymentId, { lines: FAILURE_LOG_LINES });
    if (lines.length === 0) stderr.write(`  ${err.dim('(none)')}\n`);
    printLogLines(stderr, err, lines, '  ');
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    const why = error.status === 409 ? 'its sandbox was removed when the deployment ended, and no logs were saved' : error.message;
    stderr.write(`  ${err.dim(`(no logs: ${why})`)}\n`);
  }
  return EXIT_FAILURE;
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => (line.trim() ? `  ${line}` : ''))
    .join('\n');
}

/** `--env NAME=value`, or `--env NAME` to pass this shell's value on. */
export function parseEnv(items: string[], environment: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of items) {
    const equals = item.indexOf('=');
    const name = equals === -1 ? item : item.slice(0, equals);
    if (!ENV_NAME.test(name)) {
      throw new CliError(`--env ${item}: "${name}" is not a valid variable name (letters, digits and _, not starting with a digit); write --env NAME=value.`);
    }
    if (equals !== -1) {
      env[name] = item.slice(equals + 1);
      continue;
    }
    const value = environment[name];
    if (value === undefined) throw new CliError(`--env ${name}: ${name} is not set in this shell; write --env ${name}=value to give its value.`);
    env[name] = value;
  }
  return env;
}

/** The plan the API will make of this request (the API fills in the sandbox domain, for host checks). */
function planLocally(request: DeploymentRequest, directory: string) {
  try {
    return planDeployment(request, PREVIEW_SANDBOX_FACTS);
  } catch (error) {
    if (error instanceof PlanError) throw new CliError(`${directory}: ${inCliTerms(error.message)}`);
    throw error;
  }
}
