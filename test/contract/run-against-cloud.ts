/**
 * `npm run test:contract:cloud`: runs the sandbox contract suite with the production adapter
 * against the real AgentSphere, when AGENTSPHERE_API_KEY is set (AGENTSPHERE_DOMAIN optional).
 * Without a key it says plainly that it did nothing. Never part of `npm test` or CI.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

if (!process.env.AGENTSPHERE_API_KEY) {
  console.log('test:contract:cloud did NOTHING: AGENTSPHERE_API_KEY is not set.');
  console.log('Set it (and AGENTSPHERE_DOMAIN if not agentsphere.run) to run test/contract against the real AgentSphere.');
  process.exit(0);
}

console.log(`test:contract:cloud: running test/contract against the real AgentSphere at ${process.env.AGENTSPHERE_DOMAIN ?? 'agentsphere.run'}`);
const vitest = spawn(process.execPath, [`${root}/node_modules/vitest/vitest.mjs`, 'run', '--config', `${root}/vitest.cloud.config.ts`], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, CODERUNNER_CONTRACT_TARGET: 'cloud' },
});
vitest.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
