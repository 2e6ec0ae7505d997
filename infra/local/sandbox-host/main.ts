/**
 * `npm run sandbox-host`: runs the local sandbox host on its own and prints the environment that
 * points the AgentSphere SDK at it.
 */
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { startSandboxHost } from './sandbox-host.ts';
import { ISOLATION_MODES, isIsolationMode } from './sandbox-isolation.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.SANDBOX_HOST_PORT ?? '4590' },
    'state-dir': { type: 'string', default: process.env.SANDBOX_HOST_STATE_DIR ?? '.coderunner/sandbox-host' },
    'api-key': { type: 'string', default: process.env.SANDBOX_HOST_API_KEY ?? 'as_local_dev_key' },
    'operator-key': { type: 'string', default: process.env.SANDBOX_HOST_OPERATOR_KEY },
    domain: { type: 'string', default: 'agentsphere.localhost' },
    isolation: { type: 'string', default: process.env.CODERUNNER_SANDBOX_ISOLATION ?? 'bubblewrap' },
  },
});

if (!isIsolationMode(values.isolation)) {
  console.error(`--isolation must be one of ${ISOLATION_MODES.join(', ')}`);
  process.exit(2);
}
const host = await startSandboxHost({
  port: Number(values.port),
  stateDir: resolve(values['state-dir']),
  apiKey: values['api-key'],
  domain: values.domain,
  isolation: values.isolation,
  ...(values['operator-key'] ? { operatorKey: values['operator-key'] } : {}),
});

console.log(`local sandbox host listening on ${host.url} (sandboxes under ${resolve(values['state-dir'])})`);
console.log('point the SDK at it with:');
for (const [name, value] of Object.entries(host.sdkEnv)) console.log(`  export ${name}=${value}`);
console.log('and route its requests with routeAgentSphereToLocalHost({ hostUrl, domain }) from infra/local/agentsphere-routing.ts');
console.log(`operator API: ${host.url}/_host/sandboxes with Authorization: Bearer ${host.operatorKey}`);
console.log(`operator key: ${host.operatorKey}`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: killing ${host.registry.list().length} sandbox(es)...`);
    void host.close().then(() => process.exit(0));
  });
}
