#!/usr/bin/env node
/**
 * The `coderunner` command. The CLI is TypeScript that Node runs as is (type stripping, Node
 * 22.18+). An older Node re-runs this file with the project's own Node 24
 * (`node_modules/node/bin/node`), passing the arguments, the terminal and the exit code through.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const canRunTypeScript = Boolean(process.features.typescript) && (major > 22 || (major === 22 && minor >= 18));

if (canRunTypeScript) {
  await import('../cli/main.ts');
} else {
  const shim = fileURLToPath(import.meta.url);
  const projectNode = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (process.env.CODERUNNER_REEXEC === '1' || !existsSync(projectNode)) {
    process.stderr.write(
      `error: coderunner needs Node 22.18 or newer (this is ${process.version}) and did not find the project's Node at ${projectNode}: run \`npm ci\` in the CodeRunner checkout, or use a newer Node.\n`,
    );
    process.exit(1);
  }
  const child = spawn(projectNode, [shim, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, CODERUNNER_REEXEC: '1' },
  });
  // On a terminal, Ctrl-C reaches the child through the process group already (forwarding it
  // would make it two); this process waits for the child's answer.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(signal, () => {
      if (signal !== 'SIGINT' || !process.stdin.isTTY) child.kill(signal);
    });
  }
  child.on('error', (error) => {
    process.stderr.write(`error: could not run ${projectNode}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code ?? 1);
  });
}
