/**
 * `coderunner`: deploy a project directory to a running, health-checked app in a sandbox, and
 * operate it (list, status, logs, health, kill). Every failure ends in a sentence on stderr and a
 * non-zero exit code, never a stack trace (unless CODERUNNER_DEBUG=1).
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { deploy, type DeployOptions } from './commands/deploy.ts';
import { events, type EventsOptions } from './commands/events.ts';
import { health, type HealthOptions } from './commands/health.ts';
import { kill, type KillOptions } from './commands/kill.ts';
import { logs, type LogsOptions } from './commands/logs.ts';
import { ls, type LsOptions } from './commands/ls.ts';
import { status, type StatusOptions } from './commands/status.ts';
import { quotas, type QuotasOptions } from './commands/quotas.ts';
import { createContext, type CommandContext, type GlobalOptions } from './context.ts';
import { describeFailure, isDebug } from './errors.ts';
import { healthPathProblem } from '../functions/shared/deployments/health-path.ts';
import { appPortProblem } from '../functions/shared/deployments/app-port.ts';
import { DEFAULT_LIMITS } from '../functions/shared/deployments/deployment-limits.ts';

const CONFIGURATION_HELP = `
Configuration (first found wins):
  --api-url / --token                 options
  CODERUNNER_API_URL / CODERUNNER_TOKEN
  .coderunner/local-stack.json        written by \`npm start\`, found from the current
                                      directory upward (or at CODERUNNER_STATE_FILE)
CODERUNNER_DEBUG=1 shows stack traces.

Examples:
  coderunner deploy ./my-app                  (install, build and start are worked out)
  coderunner deploy ./my-app --dry-run        (print that plan and stop)
  coderunner deploy . --start "node server.js" --port 8080 --env GREETING=hi --health-path /healthz
  coderunner ls
  coderunner logs <deployment-id> -f
  coderunner kill <deployment-id>`;

function integer(name: string, min: number, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}.`);
    }
    return value;
  };
}

/** The API's own port rule, checked before anything is read or sent. */
function appPort(text: string): number {
  const problem = /^\d+$/.test(text) ? appPortProblem(Number(text)) : 'must be an integer';
  if (problem) throw new InvalidArgumentError(`--port ${problem}.`);
  return Number(text);
}

/** The API's own health-path rule, checked before anything is read or sent. */
function healthPath(text: string): string {
  const problem = healthPathProblem(text);
  if (problem) throw new InvalidArgumentError(`--health-path ${problem}.`);
  return text;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The context of a command, from the global options. */
function contextOf(command: Command): CommandContext {
  return createContext(command.optsWithGlobals<GlobalOptions>());
}

async function exitWith(code: Promise<number>): Promise<void> {
  process.exitCode = await code;
}

function buildProgram(): Command {
  const program = new Command('coderunner')
    .description('Turn a project directory into a running, health-checked app in a sandbox.')
    .version(version(), '-V, --version')
    .option('--api-url <url>', 'the CodeRunner API (default: $CODERUNNER_API_URL, else the local stack)')
    .option('--token <jwt>', 'the bearer token (default: $CODERUNNER_TOKEN, else the local stack\'s)')
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', CONFIGURATION_HELP);

  program
    .command('deploy')
    .description('deploy a project directory and follow it step by step until it runs or fails')
    .argument('<dir>', 'the project directory (.gitignore is respected; node_modules and .git are skipped)')
    .option('--project <id>', 'project id (default: the directory name)')
    .addOption(new Option('--port <n>', 'the port the app listens on ($PORT in the app; default: detected, else 3000)').argParser(appPort))
    .option('--start <cmd>', 'start command (default: from the project: scripts.start, the framework, a Procfile, a server file, a static site)')
    .option('--install <cmd>', 'install command (default: from the lockfile: npm ci, yarn or pnpm with a frozen lockfile, pip in a virtualenv)')
    .option('--build <cmd>', 'build command run after the install (default: scripts.build, when there is one)')
    .option('--env <NAME=value>', 'an environment variable for the app, repeatable; --env NAME passes this shell\'s value', collect)
    .addOption(new Option('--health-path <path>', 'the path that answers 2xx/3xx when the app is healthy (API default /health)').argParser(healthPath))
    .addOption(new Option('--timeout <seconds>', 'sandbox lifetime (API default 3600)').argParser(integer('--timeout', DEFAULT_LIMITS.minTimeoutSeconds, DEFAULT_LIMITS.maxTimeoutSeconds)))
    .option('--reuse', 'redeploy into this project\'s live sandbox, if there is one (a manifest redeploy writes only what changed)')
    .option('--manifest', 'send a manifest and upload the files to S3 even when the project would fit in one request (automatic past 2,000 files, 1 MiB per file or 4 MiB in all)')
    .option('--dry-run', 'print the plan (install, build, start, port, env, and why) and deploy nothing')
    .option('--json', 'print the final deployment as JSON')
    .addHelpText('after', '\nExit status: 0 when RUNNING, 1 when it failed, 130 after Ctrl-C (on a terminal, Ctrl-C offers to kill it).')
    .action((dir: string, options: DeployOptions, command: Command) => exitWith(deploy(dir, options, contextOf(command))));

  program
    .command('ls')
    .description('list your live sandboxes')
    .option('--project <id>', 'only this project\'s')
    .option('--json', 'print JSON')
    .action((options: LsOptions, command: Command) => exitWith(ls(options, contextOf(command))));

  program
    .command('quotas')
    .description('show your limits (live sandboxes, deployments in flight and per minute, longest lifetime) and what you use of them')
    .option('--json', 'print JSON')
    .action((options: QuotasOptions, command: Command) => exitWith(quotas(options, contextOf(command))));

  program
    .command('status')
    .description('show a deployment: status, step, URL, options, timeline and error')
    .argument('<id>', 'deployment id')
    .option('--json', 'print JSON')
    .action((id: string, options: StatusOptions, command: Command) => exitWith(status(id, options, contextOf(command))));

  program
    .command('logs')
    .description('print a deployment\'s recent log lines (app, install, build...), oldest first; after it ended, the lines saved from its sandbox')
    .argument('<id>', 'deployment id')
    .addOption(new Option('-n, --lines <n>', 'how many lines').argParser(integer('--lines', 1, 1000)).default(100))
    .option('--since <timestamp>', 'only lines from this ISO-8601 time on, e.g. 2026-11-25T11:00:00Z')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .option('--npm-debug', "include npm's debug logs (left out by default)")
    .option('--json', 'print JSON (with -f: one JSON object per line)')
    .action((id: string, options: LogsOptions, command: Command) => exitWith(logs(id, options, contextOf(command))));

  program
    .command('events')
    .description('print a deployment\'s status changes, oldest first (the webhook events, kept 30 days)')
    .argument('<id>', 'deployment id')
    .option('--json', 'print JSON')
    .action((id: string, options: EventsOptions, command: Command) => exitWith(events(id, options, contextOf(command))));

  program
    .command('health')
    .description('probe a deployment\'s app now (exit 1 when it is not healthy)')
    .argument('<id>', 'deployment id')
    .option('--json', 'print JSON')
    .action((id: string, options: HealthOptions, command: Command) => exitWith(health(id, options, contextOf(command))));

  program
    .command('kill')
    .description('kill a deployment\'s sandbox (it ends TERMINATED)')
    .argument('<id>', 'deployment id')
    .option('--json', 'print JSON')
    .action((id: string, options: KillOptions, command: Command) => exitWith(kill(id, options, contextOf(command))));

  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.stderr.write(`${describeFailure(error, isDebug())}\n`);
  process.exitCode = (error as { exitCode?: number }).exitCode ?? 1;
}
