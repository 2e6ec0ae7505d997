/** `npm run sweep`: asks the running local stack to sweep now and prints the report. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';

const stateFile = resolve('.coderunner', 'local-stack.json');
const state = JSON.parse(await readFile(stateFile, 'utf8').catch(() => {
  console.error(`no running local stack found (${stateFile} is missing): start it with npm start`);
  process.exit(1);
})) as { operatorUrl: string; operatorKey?: string };
const response = await fetch(`${state.operatorUrl}/sweep`, { method: 'POST', headers: { authorization: `Bearer ${state.operatorKey ?? ''}` } }).catch(() => {
  console.error(`the local stack at ${state.operatorUrl} does not answer: is npm start still running?`);
  process.exit(1);
});
console.log(JSON.stringify(await response.json(), null, 2));
process.exitCode = response.ok ? 0 : 1;
