/** `coderunner kill <id>`: kills the deployment's sandbox; it ends TERMINATED. Idempotent. */
import { printJson, type CommandContext } from '../context.ts';
import { paintStatus } from '../format.ts';

export interface KillOptions {
  json?: boolean;
}

export async function kill(deploymentId: string, options: KillOptions, context: CommandContext): Promise<number> {
  const client = await context.client();
  const view = await client.deleteDeployment(deploymentId);
  if (options.json) {
    printJson(context, view);
    return 0;
  }
  const { stdout, out } = context;
  if (view.status === 'TERMINATED') {
    stdout.write(`${out.yellow('■')} deployment ${deploymentId} is ${paintStatus(view.status, out)}${view.sandboxId ? `; sandbox ${view.sandboxId} is killed` : ''}\n`);
  } else {
    stdout.write(`deployment ${deploymentId} had already ended ${paintStatus(view.status, out)}; nothing is left running\n`);
  }
  return 0;
}
