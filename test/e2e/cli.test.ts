/**
 * The `coderunner` CLI as a person uses it: a real subprocess (bin/coderunner.mjs) against a real
 * local stack, deploying a real directory and operating the deployment.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveSandboxesOf, startStackFixture, type ApiClient, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { FIXTURE_APPS, projectFiles } from '../support/project-files.ts';

const BIN = fileURLToPath(new URL('../../bin/coderunner.mjs', import.meta.url));
const CLI_USER = 'cli-user';
const DEPLOYMENT_ID = /deployment ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/;

let fixture: StackFixture;
let api: ApiClient;
let token: string;
let workDir: string;
const deployments: string[] = [];

beforeAll(async () => {
  fixture = await startStackFixture();
  token = await fixture.stack.issueToken(CLI_USER);
  api = await fixture.apiAs(CLI_USER);
  workDir = await mkdtemp(join(tmpdir(), 'coderunner-cli-test-'));
});

afterAll(async () => {
  if (fixture) {
    for (const deploymentId of deployments) await api.delete(deploymentId);
    await expectNoLeaks(fixture.stack);
  }
  await fixture?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout and stderr as they came. */
  output: string;
}

interface CliProcess {
  child: ChildProcess;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<CliRun>;
}

/** The environment of a shell with nothing of CodeRunner's in it, plus `env`. */
function shellEnvironment(env: Record<string, string>): NodeJS.ProcessEnv {
  // HOME is the test's own: a local stack running on this machine (its ~/.coderunner state) must not be found.
  return { PATH: process.env.PATH ?? '', HOME: workDir, NO_COLOR: '1', ...env };
}

function apiEnvironment(): Record<string, string> {
  return { CODERUNNER_API_URL: fixture.stack.apiUrl, CODERUNNER_TOKEN: token };
}

function startCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? workDir,
    env: shellEnvironment(options.env ?? apiEnvironment()),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    output += chunk.toString();
  });
  const exited = new Promise<CliRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, output }));
  });
  return {
    child,
    output: () => output,
    exited,
    async waitForOutput(pattern, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const match = output.match(pattern);
        if (match) return match;
        await sleep(50);
      }
      throw new Error(`the CLI did not print ${pattern} within ${timeoutMs} ms; it printed:\n${output}`);
    },
  };
}

function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<CliRun> {
  return startCli(args, options).exited;
}

/** A copy of the cli-app fixture, plus files git would not keep (they must not be uploaded). */
async function projectDirectory(name: string): Promise<string> {
  const directory = join(workDir, name);
  await cp(join(FIXTURE_APPS, 'cli-app'), directory, { recursive: true });
  await writeFile(join(directory, 'secret.env'), 'API_KEY=do-not-upload\n');
  await writeFile(join(directory, 'public', 'notes.draft'), 'ignored by public/.gitignore\n');
  await mkdir(join(directory, 'build'), { recursive: true });
  await writeFile(join(directory, 'build', 'bundle.js'), '// ignored by build/\n');
  await mkdir(join(directory, 'node_modules', 'left-pad'), { recursive: true });
  await writeFile(join(directory, 'node_modules', 'left-pad', 'index.js'), 'module.exports = 1;\n');
  await mkdir(join(directory, '.git'), { recursive: true });
  await writeFile(join(directory, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  return directory;
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)))
    .sort();
}

function appDirOf(deploymentId: string): string {
  const sandbox = (fixture.stack.sandboxHost?.registry.list() ?? []).find((candidate) => candidate.metadata.deploymentId === deploymentId);
  if (!sandbox) throw new Error(`no live sandbox for deployment ${deploymentId}`);
  return join(sandbox.rootDir, 'home', 'user', 'app');
}

/** A deployment of the fixture app made through the API (for the commands that operate one). */
async function runningDeployment(projectId: string): Promise<any> {
  const accepted = await api.deploy({
    projectId,
    files: (await projectFiles('cli-app')).filter((file) => file.path !== 'secret.env'),
    options: { port: 3000, startCommand: 'node server.js' },
  });
  expect(accepted.status).toBe(202);
  deployments.push(accepted.body.deploymentId);
  const view = await api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED']);
  expect(view.status).toBe('RUNNING');
  return view;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('coderunner deploy with no options', () => {
  it('prints the plan with its reasons and deploys nothing with --dry-run', async () => {
    // Prepare: no API configured at all
    const directory = join(workDir, 'dry-vite');
    await cp(join(FIXTURE_APPS, 'real', 'vite-react'), directory, { recursive: true });

    // Act
    const run = await runCli(['deploy', directory, '--dry-run'], { env: { CODERUNNER_STATE_FILE: join(workDir, 'no-such-state.json') } });

    // Assert
    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/^plan \(node, vite, npm\)/);
    expect(run.stdout).toMatch(/install +npm ci +package-lock\.json found/);
    expect(run.stdout).toMatch(/build +npm run build +/);
    expect(run.stdout).toMatch(/start +npx vite preview --host 0\.0\.0\.0 --port \$PORT --strictPort/);
    expect(run.output).not.toMatch(DEPLOYMENT_ID);
  });

  it('deploys a static site with no options, showing the plan first', { timeout: 60_000 }, async () => {
    // Prepare
    const directory = join(workDir, 'static-site');
    await cp(join(FIXTURE_APPS, 'real', 'static-site'), directory, { recursive: true });

    // Act
    const run = await runCli(['deploy', directory], { env: apiEnvironment() });

    // Assert
    expect(run.code, run.output).toBe(0);
    const deploymentId = run.output.match(DEPLOYMENT_ID)?.[1];
    deployments.push(deploymentId!);
    expect(run.stderr).toMatch(/plan \(static\)/);
    expect(run.stderr).toMatch(/start +node \/home\/user\/\.coderunner\/static-server\.mjs/);
    expect(run.stdout).toContain('is running');
  });

  it('says what to pass when it cannot tell how to start a project', async () => {
    const directory = join(workDir, 'nothing-to-start');
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, 'notes.txt'), 'just notes\n');

    const run = await runCli(['deploy', directory], { env: apiEnvironment() });

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/no start command found: looked for .*; pass --start \(e\.g\. "node server\.js"\)/s);
  });
});

describe('coderunner quotas', () => {
  it('shows the limits and what is used of them', async () => {
    const run = await runCli(['quotas'], { env: apiEnvironment() });

    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/QUOTA +USED/);
    expect(run.stdout).toMatch(/live sandboxes +\d+ of \d+/);
    expect(run.stdout).toMatch(/longest sandbox lifetime +24 h/);
  });

  it('explains a deployment refused by a quota, and where to see the quotas', async () => {
    // Prepare: a user an operator allows no live sandbox at all
    const userId = 'cli-no-sandboxes';
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    await documents.send(new PutCommand({ TableName: process.env.DEPLOYMENTS_TABLE, Item: { pk: `QUOTA#${userId}`, sk: 'LIMITS', liveSandboxes: 0 } }));
    documents.destroy();
    const directory = await projectDirectory('cli-quota');

    // Act
    const run = await runCli(['deploy', directory, '--start', 'node server.js'], {
      env: { CODERUNNER_API_URL: fixture.stack.apiUrl, CODERUNNER_TOKEN: await fixture.stack.issueToken(userId) },
    });

    // Assert
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('quota reached: live sandboxes: 0 of 0 in use');
    expect(run.stderr).toContain('redeploy into one with `coderunner deploy <dir> --reuse`');
    expect(run.stderr).not.toMatch(/try again in \d+ s|sandboxId/);
    expect(run.stderr).toContain('coderunner quotas');
  });
});

describe('coderunner deploy', () => {
  it('deploys a directory to RUNNING, showing each step and the app URL, with exactly the files git would keep', { timeout: 60_000 }, async () => {
    // Prepare: the local stack found through its state file, as after `npm start`
    const directory = await projectDirectory('cli-app');
    const stateFile = join(workDir, 'stack', '.coderunner', 'local-stack.json');
    await mkdir(join(workDir, 'stack', '.coderunner'), { recursive: true });
    await writeFile(stateFile, JSON.stringify({ apiUrl: fixture.stack.apiUrl, operatorUrl: fixture.stack.operatorUrl, operatorKey: fixture.stack.operatorKey, token, pid: process.pid }));

    // Act
    const run = await runCli(['deploy', directory, '--port', '3000', '--start', 'node server.js'], { env: { CODERUNNER_STATE_FILE: stateFile } });

    // Assert: the steps, each done, and the URLs
    expect(run.code, run.output).toBe(0);
    const deploymentId = run.output.match(DEPLOYMENT_ID)?.[1];
    expect(deploymentId, run.output).toBeDefined();
    deployments.push(deploymentId!);
    expect(run.stderr).toMatch(/✔ create sandbox +\d/);
    expect(run.stderr).toMatch(/✔ upload 4\/4 files +\d/);
    expect(run.stderr).toMatch(/✔ start +\d/);
    expect(run.stderr).toMatch(/✔ health check \/health +\d/);
    const view = (await api.get(deploymentId!)).body;
    expect(view).toMatchObject({ status: 'RUNNING', projectId: 'cli-app' });
    expect(run.stdout).toContain(`url:   ${view.url}`);
    const openUrl = run.stdout.match(/open: +(http:\/\/127\.0\.0\.1:\d+\/\S*)/)?.[1];
    expect(openUrl, run.stdout).toBeDefined();
    expect(await (await fetch(openUrl!)).text()).toBe('hello from cli-app\n');

    // Assert: what reached the sandbox, byte for byte
    const appDir = appDirOf(deploymentId!);
    expect(await filesUnder(appDir)).toEqual(['.gitignore', 'public/.gitignore', 'public/pixel.png', 'server.js']);
    expect(await readFile(join(appDir, 'public', 'pixel.png'))).toEqual(await readFile(join(directory, 'public', 'pixel.png')));
    expect(await readFile(join(appDir, 'server.js'), 'utf8')).toBe(await readFile(join(directory, 'server.js'), 'utf8'));
  });

  it('exits 1 naming the failed step, its cause and where its logs are when the app exits at once', { timeout: 60_000 }, async () => {
    const directory = await projectDirectory('cli-broken');

    const run = await runCli(['deploy', directory, '--port', '3000', '--start', 'node missing-entry.js']);

    expect(run.code, run.output).toBe(1);
    const deploymentId = run.output.match(DEPLOYMENT_ID)?.[1];
    expect(run.stderr).toMatch(/✖ health/);
    expect(run.stderr).toContain(`deployment ${deploymentId} failed at step health: AppExitedError`);
    expect(run.stderr).toContain('the app exited before it became healthy');
    expect(run.stderr).toContain('hint: the file /home/user/app/missing-entry.js does not exist in the app');
    expect(run.stderr).toMatch(/^ +Error: Cannot find module '\/home\/user\/app\/missing-entry.js'/m);
    expect(run.stderr).toContain(`all logs: coderunner logs ${deploymentId}`);
    expect(run.stderr).not.toContain('logs (last 20 lines):');
    expect((await api.get(deploymentId!)).body.status).toBe('FAILED');
  });

  it('leaves the deployment running on Ctrl-C without a terminal, says how to kill it and exits 130', { timeout: 60_000 }, async () => {
    // Prepare
    const directory = await projectDirectory('cli-interrupted');
    const cli = startCli(['deploy', directory, '--port', '3000', '--start', 'node server.js']);
    const deploymentId = (await cli.waitForOutput(DEPLOYMENT_ID))[1]!;
    deployments.push(deploymentId);

    // Act
    cli.child.kill('SIGINT');
    const run = await cli.exited;

    // Assert
    expect(run.code, run.output).toBe(130);
    expect(run.stderr).toContain(`kill it with: coderunner kill ${deploymentId}`);
    expect((await api.waitForStatus(deploymentId, ['RUNNING', 'FAILED'])).status).toBe('RUNNING');
  });

  it('refuses a project over the size limit before sending anything, naming the file', async () => {
    // Past the inline limit a project goes by manifest; past the manifest's 100 MiB per file it is refused.
    const directory = join(workDir, 'too-big');
    await mkdir(directory, { recursive: true });
    await writeFile(join(directory, 'server.js'), 'require("http").createServer((q, s) => s.end("hi")).listen(process.env.PORT);\n');
    await writeFile(join(directory, 'big.bin'), '');
    await truncate(join(directory, 'big.bin'), 101 * 1024 * 1024);

    const run = await runCli(['deploy', directory, '--start', 'node server.js']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('1 file is over the limit of 100 MiB per file');
    expect(run.stderr).toContain('big.bin: 101 MiB');
    expect((await api.request('GET', '/deployments?projectId=too-big')).body.items).toEqual([]);
  });
});

describe('operating a running deployment', () => {
  let running: any;

  beforeAll(async () => {
    running = await runningDeployment('cli-ops');
  });

  it('ls lists the live sandbox with its project, status and URL', async () => {
    const table = await runCli(['ls']);
    const json = await runCli(['ls', '--project', 'cli-ops', '--json']);

    expect(table.code, table.output).toBe(0);
    const row = table.stdout.split('\n').find((line) => line.includes(running.deploymentId));
    expect(row, table.stdout).toContain('cli-ops');
    expect(row).toContain('RUNNING');
    expect(row).toContain(running.url);
    expect(JSON.parse(json.stdout).items).toContainEqual(expect.objectContaining({ deploymentId: running.deploymentId, sandboxId: running.sandboxId }));
  });

  it('status shows the status, the URL and the timeline', async () => {
    const run = await runCli(['status', running.deploymentId]);

    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/status +RUNNING/);
    expect(run.stdout).toContain(running.url);
    expect(run.stdout).toMatch(/timeline +PENDING \+0 ms → .* → RUNNING \+/);
  });

  it('logs shows a line the app printed', async () => {
    const run = await runCli(['logs', running.deploymentId, '-n', '50']);

    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/Z app +cli-app listening on port \d+/);
  });

  it('logs -f prints new lines as the app writes them, each once, until Ctrl-C', { timeout: 60_000 }, async () => {
    // Prepare
    const cli = startCli(['logs', running.deploymentId, '-f']);
    await cli.waitForOutput(/cli-app listening on port/);
    const browserUrl = await fixture.stack.browserUrl(running.sandboxId, running.options.port);

    // Act
    await fetch(new URL('/followed-request', browserUrl));
    await cli.waitForOutput(/cli-app served GET \/followed-request/);
    await sleep(2_500); // a few more polls, which must not repeat lines
    cli.child.kill('SIGINT');
    const run = await cli.exited;

    // Assert
    expect(run.code, run.output).toBe(0);
    expect(run.stdout.match(/cli-app listening on port/g)).toHaveLength(1);
    expect(run.stdout.match(/cli-app served GET \/followed-request/g)).toHaveLength(1);
  });

  it('logs -f prints each line of a log file without timestamps once, however often the file grows', { timeout: 60_000 }, async () => {
    // Prepare: an app that appends a line every 300 ms to logs/app.log, with no time on the line
    const script = "require('http').createServer((q,s)=>s.end('ok')).listen(process.env.PORT);let n=0;require('fs').mkdirSync('logs',{recursive:true});setInterval(()=>require('fs').appendFileSync('logs/app.log','tick '+(++n)+'\\n'),300)";
    const accepted = await api.deploy({ projectId: 'cli-undated', files: [{ path: 'app.js', content: script }], options: { startCommand: 'node app.js', healthPath: '/' } });
    deployments.push(accepted.body.deploymentId);
    await api.waitForStatus(accepted.body.deploymentId, ['RUNNING']);

    // Act
    const cli = startCli(['logs', accepted.body.deploymentId, '-f']);
    await cli.waitForOutput(/tick 3\b/);
    await sleep(2_500); // the file grows between polls, its mtime moving forward
    cli.child.kill('SIGINT');
    const run = await cli.exited;

    // Assert
    expect(run.code, run.output).toBe(0);
    const ticks = run.stdout.match(/tick \d+/g) ?? [];
    expect(ticks.length).toBeGreaterThan(3);
    expect(new Set(ticks).size).toBe(ticks.length);
  });

  it('health reports the app healthy', async () => {
    const run = await runCli(['health', running.deploymentId]);

    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toMatch(/✔ healthy: GET \/health → 200 in \d+ ms/);
  });
});

describe('coderunner kill', () => {
  it('ends the deployment TERMINATED and kills its sandbox', { timeout: 60_000 }, async () => {
    const { deploymentId } = await runningDeployment('cli-kill');

    const run = await runCli(['kill', deploymentId]);

    expect(run.code, run.output).toBe(0);
    expect(run.stdout).toContain(`deployment ${deploymentId} is TERMINATED`);
    expect((await api.get(deploymentId)).body.status).toBe('TERMINATED');
    expect(liveSandboxesOf(fixture.stack, deploymentId)).toEqual([]);
  });
});

describe('coderunner logs after the end', () => {
  it('shows the logs saved before the sandbox was killed, and says so', { timeout: 60_000 }, async () => {
    // Prepare
    const { deploymentId } = await runningDeployment('cli-saved-logs');
    expect((await runCli(['kill', deploymentId])).code).toBe(0);

    // Act
    const run = await runCli(['logs', deploymentId, '-n', '50']);

    // Assert
    expect(run.code, run.output).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`deployment ${deploymentId} is TERMINATED: these are its logs as saved at \\S+, before its sandbox was killed`));
    expect(run.stdout).toMatch(/Z app +cli-app listening on port \d+/);
  });
});

describe('coderunner events', () => {
  it('prints each status change of a deployment, oldest first', { timeout: 60_000 }, async () => {
    // Prepare
    const { deploymentId } = await runningDeployment('cli-events');
    await api.delete(deploymentId);

    // Act
    const run = await runCli(['events', deploymentId]);

    // Assert
    expect(run.code, run.output).toBe(0);
    const changes = run.stdout.trim().split('\n').map((line) => line.replace(/^\S+\s+/, '').split('  ')[0]);
    expect(changes).toEqual(['PENDING', 'PENDING → CREATING', 'CREATING → UPLOADING', 'UPLOADING → STARTING', 'STARTING → CHECKING_HEALTH', 'CHECKING_HEALTH → RUNNING', 'RUNNING → STOPPING', 'STOPPING → TERMINATED']);
  });
});

describe('errors read as sentences', () => {
  const noStackTrace = /^\s+at /m;

  it('without any configuration, says how to start the local stack or pass --api-url/--token', async () => {
    const run = await runCli(['ls'], { env: {} });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: no CodeRunner API is configured: start the local stack with `npm start`');
    expect(run.stderr).toContain('pass --api-url and --token');
    expect(run.stderr).not.toMatch(noStackTrace);
  });

  it('asks whether `npm start` is running when the API cannot be reached', async () => {
    const apiUrl = `http://127.0.0.1:${await closedPort()}`;

    const run = await runCli(['ls', '--api-url', apiUrl, '--token', token], { env: {} });

    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(`error: cannot reach the CodeRunner API at ${apiUrl}: is \`npm start\` running?`);
  });

  it('gives token advice when the API refuses the token', async () => {
    const run = await runCli(['ls'], { env: { ...apiEnvironment(), CODERUNNER_TOKEN: 'not-a-token' } });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`error: the CodeRunner API at ${fixture.stack.apiUrl} refused the token`);
    expect(run.stderr).toContain('--token');
    expect(run.stderr).not.toMatch(noStackTrace);
  });

  it("says a deployment that does not exist (or is another user's) is not found", async () => {
    const files = (await projectFiles('cli-app')).filter((file) => file.path !== 'secret.env');
    const someoneElses = (await fixture.api.deploy({ projectId: 'not-cli', files, options: { startCommand: 'node server.js', port: 3000 } })).body;

    const missing = await runCli(['status', '00000000-0000-4000-8000-000000000000']);
    const notMine = await runCli(['status', someoneElses.deploymentId]);

    expect(missing.stderr.trim()).toBe('error: no deployment 00000000-0000-4000-8000-000000000000 (or it is not yours).');
    expect(notMine.stderr.trim()).toBe(`error: no deployment ${someoneElses.deploymentId} (or it is not yours).`);
    expect(notMine.code).toBe(1);
    await fixture.api.waitForStatus(someoneElses.deploymentId, ['RUNNING', 'FAILED']);
    await fixture.api.delete(someoneElses.deploymentId);
  });

  it('names the field and the rule of a request the API refuses', async () => {
    const directory = await projectDirectory('cli-invalid');

    const run = await runCli(['deploy', directory, '--start', 'node server.js', '--env', `BIG=${'x'.repeat(5_000)}`]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('error: the deployment request is invalid:\n  --env BIG: must be at most 4096 bytes');
    expect(run.stderr).not.toMatch(noStackTrace);
  });

  it('refuses a health path that names another host before reading or sending anything', async () => {
    const directory = await projectDirectory('cli-invalid-health');

    const run = await runCli(['deploy', directory, '--start', 'node server.js', '--health-path', '//evil.example/']);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--health-path must not contain "//" (it would name another host)');
  });
});
