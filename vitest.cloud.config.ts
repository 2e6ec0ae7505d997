/**
 * `npm run test:contract:cloud`: the sandbox contract suite against the real AgentSphere. Only
 * test/contract/run-against-cloud.ts uses this config (with CODERUNNER_CONTRACT_TARGET=cloud);
 * `npm test` runs the same file against the local sandbox host.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/contract/**/*.test.ts'],
    pool: 'forks',
    // Cloud sandboxes take seconds to create; one file at a time keeps the account's limits.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
