/**
 * `npm start`: the whole CodeRunner system on this machine. Prints the API URL, a token for a dev
 * user and a curl example; Ctrl-C kills every sandbox and stops everything.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { userStateFile } from '../../cli/config.ts';
import { parseArgs } from 'node:util';
import { startLocalStack } from './local-stack.ts';
import { loadSynthesizedStackWithOrigin } from './synthesized-stack.ts';
import { statusChangeLine } from './status-change-line.ts';
import { ISOLATION_MODES, isIsolationMode } from './sandbox-host/sandbox-isolation.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.CODERUNNER_API_PORT ?? '3001' },
    'data-dir': { type: 'string', default: process.env.CODERUNNER_DATA_DIR },
    'dev-user': { type: 'string', default: 'dev-user' },
    'real-agentsphere': { type: 'boolean', default: false },
    'sweep-interval': { type: 'string', default: process.env.CODERUNNER_SWEEP_INTERVAL_SECONDS ?? '60' },
    'sandbox-host-url': { type: 'string', default: process.env.CODERUNNER_SANDBOX_HOST_URL },
    'sandbox-host-key': { type: 'string', default: process.env.CODERUNNER_SANDBOX_HOST_KEY },
    'sandbox-host-operator-key': { type: 'string', default: process.env.CODERUNNER_SANDBOX_HOST_OPERATOR_KEY },
    isolation: { type: 'string', default: process.env.CODERUNNER_SANDBOX_ISOLATION ?? 'bubblewrap' },
    // The functions' own logs; status changes are printed whatever the level.
    'log-level': { type: 'string', default: process.env.CODERUNNER_LOG_LEVEL ?? 'WARN' },
  },
});

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT'];
const logLevel = values['log-level'].toUpperCase();
if (!LOG_LEVELS.includes(logLevel)) {
  console.error(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  process.exit(2);
}

if (!isIsolationMode(values.isolation)) {
  console.error(`--isolation must be one of ${ISOLATION_MODES.join(', ')}`);
  process.exit(2);
}
const isolation = values.isolation;
const operatorKey = values['sandbox-host-operator-key'];
const externalHost = values['sandbox-host-url']
  ? { url: values['sandbox-host-url'], apiKey: values['sandbox-host-key'] ?? 'as_local_dev_key', ...(operatorKey ? { operatorKey } : {}) }
  : undefined;

const dataDir = values['data-dir'] ? resolve(values['data-dir']) : undefined;
// The template is synthesized again only when the CDK app or what it reads changed.
const synthesis = await loadSynthesizedStackWithOrigin();
const stack = await startLocalStack({
  synthesized: synthesis.stack,
  apiPort: Number(values.port),
  ...(dataDir ? { dataDir } : {}),
  realAgentSphere: values['real-agentsphere'],
  // An explicit data directory keeps everything, DynamoDB included, across restarts.
  persist: dataDir !== undefined,
  sweepIntervalMs: Number(values['sweep-interval']) * 1000,
  ...(externalHost ? { externalSandboxHost: externalHost } : {}),
  isolation,
  // Readable logs on a terminal, and no metric documents in them.
  environment: { POWERTOOLS_DEV: process.env.POWERTOOLS_DEV ?? 'true', POWERTOOLS_LOG_LEVEL: logLevel },
  onExecutionStatusChange: (event) => void announce(event.detail.name, event.detail.status),
  onDeploymentEvent: (event) => console.log(statusChangeLine(event)),
}).catch(exitOnBusyPort);
const token = await stack.issueToken(values['dev-user']);
// performance.now() counts from the process's start: module loading included.
const seconds = (performance.now() / 1000).toFixed(1);

// Where the CLI and other tools find the running stack: in the checkout, and a copy in the home
// directory for projects elsewhere.
const stateFile = resolve('.coderunner', 'local-stack.json');
const homeStateFile = userStateFile();
const state = JSON.stringify({ apiUrl: stack.apiUrl, operatorUrl: stack.operatorUrl, operatorKey: stack.operatorKey, token, pid: process.pid }, null, 2);
for (const file of [stateFile, homeStateFile]) {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, state, { mode: 0o600 });
}

console.log(`
CodeRunner local stack ready in ${seconds} s
  API:        ${stack.apiUrl}
  sandboxes:  ${stack.sandboxHost ? `local sandbox host ${stack.sandboxHost.url}` : externalHost ? `sandbox host process ${externalHost.url}` : 'real AgentSphere'}
  template:   ${synthesis.reused ? 'reused (infra/cdk, functions/, cdk.json and package-lock.json unchanged since the last synth)' : 'synthesized from infra/cdk'}
  state:      ${dataDir ? `${dataDir} (DynamoDB, S3 and sandbox trees on disk; kept across restarts)` : 'in memory and a temporary directory, gone on exit'}
  logs:       the functions' at ${logLevel} and above (--log-level INFO shows every step's)
  sweep:      every ${values['sweep-interval']} s, or now with \`npm run sweep\` (POST ${stack.operatorUrl}/sweep with the operator key in ${stateFile})
  dev token for "${values['dev-user']}" (also in ${stateFile}):
    export TOKEN=${token}

Try it:
  curl -s -X POST ${stack.apiUrl}/deployments \\
    -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"projectId":"hello","files":[{"path":"server.js","content":"require(\\"http\\").createServer((q,s)=>s.end(\\"hello\\")).listen(process.env.PORT)"}],"options":{"startCommand":"node server.js","healthPath":"/"}}'
  curl -s ${stack.apiUrl}/deployments/<deploymentId> -H "authorization: Bearer $TOKEN"

Ctrl-C stops everything and kills every sandbox.
`);

async function announce(deploymentId: string, status: string): Promise<void> {
  if (status !== 'SUCCEEDED') return console.log(`deployment ${deploymentId}: saga ${status.toLowerCase()}`);
  const response = await fetch(`${stack.apiUrl}/deployments/${deploymentId}`, { headers: { authorization: `Bearer ${token}` } });
  const deployment = (await response.json()) as { sandboxId?: string; options?: { port: number } };
  // Another user's deployment is not ours to show.
  if (!response.ok || !deployment.sandboxId || !deployment.options) return console.log(`deployment ${deploymentId}: running`);
  const url = await stack.browserUrl(deployment.sandboxId, deployment.options.port);
  console.log(`deployment ${deploymentId}: running, open ${url}`);
}

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping, killing every sandbox...`);
    void stack
      .stop()
      // The token and URLs in it are dead now; the CLI must not find them.
      .then(() => Promise.all([rm(stateFile, { force: true }), removeIfOurs(homeStateFile)]))
      .then(
        () => process.exit(0),
        (error: unknown) => {
          console.error(error);
          process.exit(1);
        },
      );
  });
}

/** The home copy may belong to another stack started since: only ours is removed. */
async function removeIfOurs(file: string): Promise<void> {
  const owner = await readFile(file, 'utf8').then((text) => (JSON.parse(text) as { pid?: number }).pid, () => undefined);
  if (owner === process.pid) await rm(file, { force: true });
}

/** A port already taken (another `npm start`, say) is said in a sentence, not a stack trace. */
function exitOnBusyPort(error: unknown): never {
  const { code, port } = error as { code?: string; port?: number };
  if (code !== 'EADDRINUSE') throw error;
  console.error(`port ${port ?? values.port} is already in use (another \`npm start\`?): stop it, or pass --port <another port> (CODERUNNER_API_PORT)`);
  process.exit(1);
}
