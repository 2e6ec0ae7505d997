/**
 * Deployments as the saga leaves them at each status, built through the fake ports themselves
 * (records by the repository's own transitions, files staged, the sandbox and its app seeded at
 * the provider), so every test starts from a state the system can really be in.
 */
import { randomUUID } from 'node:crypto';
import { APP_DIR, APP_STDERR_LOG, APP_STDOUT_LOG, MANAGED_BY } from '../../../functions/shared/deployments/app-layout.ts';
import type { BuildPlan } from '../../../functions/shared/deployments/build-plan/build-plan.ts';
import type { Deployment } from '../../../functions/shared/deployments/deployment.ts';
import type { DeploymentStatus } from '../../../functions/shared/deployments/deployment-status.ts';
import { deploymentRequestSchema, type DeploymentRequest } from '../../../functions/shared/deployments/deployment-request.ts';
import type { NewDeployment, StagedBatchRef, StagedFile } from '../../../functions/shared/deployments/ports.ts';
import { releaseQuotaSlots } from '../../../functions/shared/deployments/quotas/deployment-quotas.ts';
import { submitDeployment } from '../../../functions/shared/deployments/requests/submit-deployment.ts';
import type { AppHandler, FakeProcess } from './fake-process.ts';
import type { FakeSandbox } from './fake-sandbox.ts';
import type { FakePorts } from './fake-ports.ts';

export const SAGA_PATH: readonly DeploymentStatus[] = ['PENDING', 'CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING'];

/** A Node plan that starts `node server.js` on 3000; each part can be replaced. */
export function nodePlan(overrides: Partial<BuildPlan> = {}): BuildPlan {
  return {
    runtime: 'node',
    start: { command: 'node server.js', reason: 'the entry file server.js', source: 'detected' },
    port: { value: 3000, reason: 'the default port', source: 'default' },
    env: [],
    notes: [],
    ...overrides,
  };
}

export function newDeployment(overrides: Partial<NewDeployment> = {}): NewDeployment {
  const plan = overrides.plan ?? nodePlan();
  return {
    deploymentId: randomUUID(),
    userId: 'user-1',
    projectId: 'hello',
    status: 'PENDING',
    options: {
      port: plan.port.value,
      ...(plan.install ? { installCommand: plan.install.command } : {}),
      ...(plan.build ? { buildCommand: plan.build.command } : {}),
      startCommand: plan.start.command,
      healthPath: '/health',
      timeoutSeconds: 3600,
    },
    plan,
    envNames: [],
    filesTotal: 2,
    bytesTotal: 60,
    batchesTotal: 1,
    createdAt: '2030-01-01T00:00:00.000Z',
    ...overrides,
  };
}

export const DEFAULT_FILES: readonly StagedFile[] = [
  { path: 'server.js', content: Buffer.from("require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT)") },
  { path: 'package.json', content: Buffer.from('{"name":"hello"}') },
];

export interface DeploymentInOptions {
  overrides?: Partial<NewDeployment>;
  files?: readonly StagedFile[];
  env?: Record<string, string>;
  /** How the app answers once started (default 200 "ok"); `false`: it starts but listens on nothing. */
  app?: AppHandler | false;
  /** Seconds the provider gives the sandbox (default the deployment's timeoutSeconds). */
  sandboxLifetimeSeconds?: number;
  /**
   * Whether the create step recorded the sandbox's owner (default true); false builds a sandbox
   * created before ownership items existed (its creator, from its metadata, owns it).
   */
  recordOwner?: boolean;
  /** Whether the deployment holds its quota slots, as a submit takes them (default true). */
  holdsQuota?: boolean;
}

/** The builders take slots below this limit: as many deployments as a test builds, not the defaults' few. */
const BUILDER_SLOT_LIMIT = 1000;

export interface BuiltDeployment {
  deployment: Deployment;
  batches: StagedBatchRef[];
  sandbox?: FakeSandbox;
  app?: FakeProcess;
}

/** A deployment walked along the saga's path up to `status`, with what the saga made by then. */
export async function deploymentIn(ports: FakePorts, status: DeploymentStatus, options: DeploymentInOptions = {}): Promise<BuiltDeployment> {
  if (!SAGA_PATH.includes(status)) throw new Error(`deploymentIn builds saga statuses only, not ${status}`);
  const files = options.files ?? DEFAULT_FILES;
  const env = options.env ?? {};
  const base = newDeployment({ createdAt: ports.clock.iso(), filesTotal: files.length, envNames: Object.keys(env).sort(), ...options.overrides });
  const quotaSlots = options.holdsQuota === false ? undefined : await takeQuotaSlots(ports, base.userId, base.deploymentId);
  let deployment = await ports.deployments.create({ ...base, ...(quotaSlots ? { quotaSlots } : {}) });
  await ports.staging.putManifest({ deploymentId: deployment.deploymentId, env });
  const batches = [await ports.staging.putBatch(deployment.deploymentId, 0, files)];
  const built: BuiltDeployment = { deployment, batches };

  for (const next of SAGA_PATH.slice(1, SAGA_PATH.indexOf(status) + 1)) {
    if (next === 'UPLOADING') {
      const sandbox = ports.sandboxes.seed({
        metadata: { userId: deployment.userId, projectId: deployment.projectId, deploymentId: deployment.deploymentId, managedBy: MANAGED_BY },
        env: { ...env, PORT: String(deployment.options.port) },
        expiresAt: ports.clock.inSeconds(options.sandboxLifetimeSeconds ?? deployment.options.timeoutSeconds),
      });
      built.sandbox = sandbox;
      const expiresAt = ports.clock.inSeconds(deployment.options.timeoutSeconds);
      if (options.recordOwner !== false) await ports.ownership.recordOwner(sandbox.sandboxId, deployment.deploymentId, expiresAt);
      deployment = await ports.deployments.transition(deployment.deploymentId, 'UPLOADING', { sandboxId: sandbox.sandboxId, expiresAt, sandboxCreatedAt: sandbox.startedAt.toISOString() });
    } else if (next === 'STARTING') {
      for (const file of files) built.sandbox!.writeFile(`${APP_DIR}/${file.path}`, file.content);
      await ports.deployments.recordBatch(deployment.deploymentId, 0, files.length);
      deployment = await ports.deployments.transition(deployment.deploymentId, 'STARTING');
    } else if (next === 'CHECKING_HEALTH') {
      const app = startApp(built.sandbox!, deployment, env, options.app);
      built.app = app;
      deployment = await ports.deployments.transition(deployment.deploymentId, 'CHECKING_HEALTH', { appPid: app.pid, healthDeadline: ports.clock.inSeconds(60) });
    } else if (next === 'RUNNING') {
      deployment = await ports.deployments.transition(deployment.deploymentId, 'RUNNING', { appUrl: ports.sandboxes.portUrl(built.sandbox!.sandboxId, deployment.options.port) });
      // No longer in flight (as the health step gives it back).
      await releaseQuotaSlots(ports.dependencies, deployment, ['deploymentsInFlight']);
    } else {
      deployment = await ports.deployments.transition(deployment.deploymentId, next);
    }
  }
  built.deployment = deployment;
  return built;
}

/** A slot of each counted quota, as a submit takes them for a new deployment. */
async function takeQuotaSlots(ports: FakePorts, userId: string, deploymentId: string): Promise<NonNullable<Deployment['quotaSlots']>> {
  const deploymentsInFlight = await ports.quotas.takeSlot(userId, 'deploymentsInFlight', BUILDER_SLOT_LIMIT, deploymentId);
  const liveSandboxes = await ports.quotas.takeSlot(userId, 'liveSandboxes', BUILDER_SLOT_LIMIT, deploymentId);
  return { deploymentsInFlight: deploymentsInFlight!, liveSandboxes: liveSandboxes! };
}

/**
 * A redeploy into the RUNNING deployment's sandbox, submitted through the real submit: the new
 * record PENDING with `reusedFrom`, the sandbox handed over to it (its live-sandbox slot with
 * it), the previous deployment TERMINATED and replaced by it, its saga started.
 */
export async function redeployInto(
  ports: FakePorts,
  previous: BuiltDeployment,
  options: { deploymentId?: string; files?: { path: string; content: string }[]; timeoutSeconds?: number } = {},
): Promise<Deployment> {
  return submitDeployment(ports.dependencies, {
    userId: previous.deployment.userId,
    request: deploymentRequest({
      projectId: previous.deployment.projectId,
      sandboxId: previous.sandbox!.sandboxId,
      ...(options.files ? { files: options.files } : {}),
      ...(options.timeoutSeconds ? { options: { timeoutSeconds: options.timeoutSeconds } } : {}),
    }),
    ...(options.deploymentId ? { deploymentId: options.deploymentId } : {}),
  });
}

/** The app process as the start step leaves it: running, answering on the deployment's port. */
export function startApp(sandbox: FakeSandbox, deployment: Deployment, env: Record<string, string> = {}, app: AppHandler | false = () => new Response('ok')): FakeProcess {
  const process = sandbox.startProcess({
    command: deployment.options.startCommand,
    cwd: APP_DIR,
    env: { ...env, PORT: String(deployment.options.port) },
    stdoutPath: APP_STDOUT_LOG,
    stderrPath: APP_STDERR_LOG,
  });
  if (app) process.listen(deployment.options.port, app);
  return process;
}

/** A validated `POST /deployments` body (the schema's defaults applied). */
export function deploymentRequest(body: { projectId?: string; files?: { path: string; content: string }[]; options?: Record<string, unknown>; sandboxId?: string; reuse?: boolean } = {}): DeploymentRequest {
  return deploymentRequestSchema().parse({
    projectId: body.projectId ?? 'hello',
    files: body.files ?? [
      { path: 'server.js', content: "require('http').createServer((q, s) => s.end('ok')).listen(process.env.PORT)" },
      { path: 'package.json', content: '{"name":"hello","scripts":{"start":"node server.js"}}' },
    ],
    options: { startCommand: 'node server.js', ...body.options },
    ...(body.sandboxId ? { sandboxId: body.sandboxId } : {}),
    ...(body.reuse !== undefined ? { reuse: body.reuse } : {}),
  });
}
