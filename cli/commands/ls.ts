/** `coderunner ls [--project <id>]`: the caller's live sandboxes, newest first, as a table. */
import { printJson, type CommandContext } from '../context.ts';
import { formatRelative, paintStatus, table } from '../format.ts';

export interface LsOptions {
  project?: string;
  json?: boolean;
}

export async function ls(options: LsOptions, context: CommandContext): Promise<number> {
  const client = await context.client();
  const sandboxes = await client.listSandboxes(options.project);
  // Only the local stack knows URLs that open on this machine.
  const browserUrls = await Promise.all(
    sandboxes.map(async (sandbox) => {
      if (!client.config.operatorUrl || !sandbox.sandboxId || sandbox.status !== 'RUNNING') return undefined;
      const port = await client
        .getDeployment(sandbox.deploymentId)
        .then((view) => view.options.port)
        .catch(() => undefined);
      return port === undefined ? undefined : client.browserUrl(sandbox.sandboxId, port);
    }),
  );
  if (options.json) {
    printJson(context, { items: sandboxes.map((sandbox, index) => ({ ...sandbox, ...(browserUrls[index] ? { browserUrl: browserUrls[index] } : {}) })) });
    return 0;
  }
  const { stdout, out } = context;
  if (sandboxes.length === 0) {
    stdout.write(`no live sandboxes${options.project ? ` for project ${options.project}` : ''}\n`);
    return 0;
  }
  const local = browserUrls.some(Boolean);
  const header = ['DEPLOYMENT', 'PROJECT', 'STATUS', 'SANDBOX', 'URL', ...(local ? ['LOCAL URL'] : []), 'EXPIRES'];
  const rows = sandboxes.map((sandbox, index) => [
    sandbox.deploymentId,
    sandbox.projectId,
    paintStatus(sandbox.status, out),
    sandbox.sandboxId ?? '-',
    sandbox.url ?? '-',
    ...(local ? [browserUrls[index] ?? '-'] : []),
    formatRelative(sandbox.expiresAt),
  ]);
  stdout.write(`${table(header, rows, out)}\n`);
  return 0;
}
