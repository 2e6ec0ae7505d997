/** `coderunner health <id>`: probes the app now; exit 0 when it answers healthy, 1 otherwise. */
import { printJson, type CommandContext } from '../context.ts';
import { EXIT_FAILURE } from '../errors.ts';
import { paintStatus } from '../format.ts';

export interface HealthOptions {
  json?: boolean;
}

export async function health(deploymentId: string, options: HealthOptions, context: CommandContext): Promise<number> {
  const client = await context.client();
  const answer = await client.health(deploymentId);
  const healthy = answer.probe?.healthy === true;
  if (options.json) {
    printJson(context, answer);
    return healthy ? 0 : EXIT_FAILURE;
  }
  const { stdout, out } = context;
  const { probe, sandbox } = answer;
  const lines = [`deployment ${deploymentId} is ${paintStatus(answer.status, out)}`];
  if (probe) {
    const outcome = probe.statusCode !== undefined ? `${probe.statusCode}` : `no answer (${probe.error ?? 'unknown error'})`;
    lines.push(`${healthy ? out.green('✔ healthy') : out.red('✖ unhealthy')}: GET ${probe.path} → ${outcome} in ${probe.latencyMs} ms`);
    if (probe.error && probe.statusCode !== undefined) lines.push(`  ${probe.error}`);
  } else {
    lines.push(`${out.red('✖ not probed')}: the deployment has no running app`);
  }
  if (sandbox) lines.push(`sandbox ${sandbox.sandboxId ?? '-'} is ${sandbox.alive ? 'alive' : out.red('gone')}`);
  lines.push(out.dim(`checked at ${answer.checkedAt}`));
  stdout.write(`${lines.join('\n')}\n`);
  return healthy ? 0 : EXIT_FAILURE;
}
