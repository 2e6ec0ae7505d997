/** `coderunner status <id>`: one deployment: where it is, how it got there, and why it failed. */
import { TERMINAL_STATUSES, type DeploymentView } from '../api-types.ts';
import { printJson, type CommandContext } from '../context.ts';
import { inCliTerms } from '../option-terms.ts';
import { formatDuration, formatRelative, paintStatus, type Colors } from '../format.ts';

const TIMELINE = ['AWAITING_UPLOAD', 'PENDING', 'CREATING', 'UPLOADING', 'STARTING', 'CHECKING_HEALTH', 'RUNNING', 'STOPPING', 'FAILED', 'TERMINATED', 'EXPIRED', 'LOST'] as const;

export interface StatusOptions {
  json?: boolean;
}

export async function status(deploymentId: string, options: StatusOptions, context: CommandContext): Promise<number> {
  const client = await context.client();
  const view = await client.getDeployment(deploymentId);
  const browserUrl = view.status === 'RUNNING' && view.sandboxId ? await client.browserUrl(view.sandboxId, view.options.port) : undefined;
  if (options.json) {
    printJson(context, { ...view, ...(browserUrl ? { browserUrl } : {}) });
    return 0;
  }
  context.stdout.write(`${describeDeployment(view, context.out, browserUrl)}\n`);
  return 0;
}

export function describeDeployment(view: DeploymentView, colors: Colors, browserUrl?: string): string {
  const { progress, options } = view;
  const fields: [string, string][] = [
    ['deployment', view.deploymentId],
    ['project', view.projectId],
    ['status', `${paintStatus(view.status, colors)}${view.step ? ` (step ${view.step})` : ''}`],
    ['sandbox', view.sandboxId ?? '-'],
    ['url', view.url ?? '-'],
    ...(browserUrl ? [['open', `${browserUrl} (on this machine)`] as [string, string]] : []),
    ['files', `${progress.filesUploaded}/${progress.filesTotal} uploaded in ${progress.batchesTotal} ${progress.batchesTotal === 1 ? 'batch' : 'batches'}`],
    ['port', String(options.port)],
    ...(options.installCommand ? [['install', options.installCommand] as [string, string]] : []),
    ['start', options.startCommand],
    ['health', view.healthyPath && view.healthyPath !== options.healthPath ? `${options.healthPath} (404; ${view.healthyPath} answered)` : options.healthPath],
    ...(view.env && view.env.length > 0 ? [['env', view.env.join(', ')] as [string, string]] : []),
    ['created', `${view.timestamps.createdAt} (${formatRelative(view.timestamps.createdAt)})`],
    // An ended deployment's sandbox is gone: its expiry no longer means anything.
    ['expires', view.expiresAt && !TERMINAL_STATUSES.has(view.status) ? `${view.expiresAt} (${formatRelative(view.expiresAt)})` : '-'],
    ...(view.redeployOf ? [['redeploy of', view.redeployOf] as [string, string]] : []),
    ...(view.replacedBy ? [['replaced by', view.replacedBy] as [string, string]] : []),
    ['timeline', timeline(view)],
  ];
  const width = Math.max(...fields.map(([name]) => name.length));
  const lines = fields.map(([name, value]) => `${colors.dim(name.padEnd(width))}  ${value}`);
  if (view.error) {
    lines.push(`${colors.dim('error'.padEnd(width))}  ${colors.red(`${view.error.name} at step ${view.error.step}`)}`);
    lines.push(...inCliTerms(view.error.message).trimEnd().split('\n').map((line) => `${' '.repeat(width)}    ${line}`));
  }
  return lines.join('\n');
}

/** Each status entered, with the time since the deployment was created. */
function timeline(view: DeploymentView): string {
  const created = new Date(view.timestamps.createdAt).getTime();
  return TIMELINE.filter((status) => view.timestamps[status])
    .map((status) => `${status} +${formatDuration(new Date(view.timestamps[status]!).getTime() - created)}`)
    .join(' → ');
}
