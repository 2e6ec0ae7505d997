/** `coderunner events <id>`: a deployment's status changes, oldest first, one line each. */
import type { DeploymentEvent } from '../api-types.ts';
import { printJson, type CommandContext } from '../context.ts';
import { paintStatus, type Colors } from '../format.ts';

export interface EventsOptions {
  json?: boolean;
}

export async function events(deploymentId: string, options: EventsOptions, context: CommandContext): Promise<number> {
  const client = await context.client();
  const history = await client.events(deploymentId);
  if (options.json) {
    printJson(context, history);
    return 0;
  }
  if (history.length === 0) {
    context.stdout.write(`no events for deployment ${deploymentId}\n`);
    return 0;
  }
  context.stdout.write(`${history.map((event) => eventLine(event, context.out)).join('\n')}\n`);
  return 0;
}

export function eventLine(event: DeploymentEvent, colors: Colors): string {
  const change = event.previousStatus ? `${event.previousStatus} → ${paintStatus(event.status, colors)}` : paintStatus(event.status, colors);
  const details = [
    event.error ? colors.red(`${event.error.name} at step ${event.error.step}`) : undefined,
    event.url ? event.url : undefined,
    event.replacedBy ? `replaced by ${event.replacedBy}` : undefined,
  ].filter(Boolean);
  return `${colors.dim(event.time)}  ${change}${details.length ? `  ${details.join('  ')}` : ''}`;
}
