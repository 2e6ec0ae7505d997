/** `coderunner quotas`: the caller's limits and what they use of them now, as a table. */
import { printJson, type CommandContext } from '../context.ts';
import { table } from '../format.ts';

export interface QuotasOptions {
  json?: boolean;
}

export async function quotas(options: QuotasOptions, context: CommandContext): Promise<number> {
  const client = await context.client();
  const view = await client.quotas();
  if (options.json) {
    printJson(context, view);
    return 0;
  }
  const { limits, usage } = view;
  const { stdout, out } = context;
  const used = (current: number, limit: number) => {
    const text = `${current} of ${limit}`;
    return current >= limit ? out.red(text) : current >= limit * 0.8 ? out.yellow(text) : text;
  };
  const rows = [
    ['live sandboxes', used(usage.liveSandboxes, limits.liveSandboxes)],
    ['deployments in flight', used(usage.deploymentsInFlight, limits.deploymentsInFlight)],
    ['deployments started this minute', used(usage.deploymentsPerMinute, limits.deploymentsPerMinute)],
    ['longest sandbox lifetime', formatLifetime(limits.maxSandboxLifetimeSeconds)],
  ];
  stdout.write(`${table(['QUOTA', 'USED'], rows, out)}\n`);
  return 0;
}

/** `24 h`, `90 min`, `45 s`. */
function formatLifetime(seconds: number): string {
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}
