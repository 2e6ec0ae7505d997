/**
 * Reading shell commands the way the plan needs to: which package.json script a command runs,
 * which file it hands to node, and which port it names. Heuristics for common shapes, not a shell
 * parser: a command they do not understand yields undefined.
 */
import type { PackageJson } from './project-files.ts';

/** The script a package-manager command runs: `npm start` → 'start', `npx --yes pnpm@9 run build` → 'build'. */
export function scriptInvoked(command: string): string | undefined {
  const run = /(?:^|[\s;&|])(?:npm|pnpm|yarn|bun|npx\s+(?:--yes\s+)?(?:pnpm|yarn|@yarnpkg\/cli-dist)(?:@\S+)?)\s+(?:\S+\s+)*?run(?:-script)?\s+([\w:.@/-]+)/.exec(command);
  if (run?.[1]) return run[1];
  const start = /(?:^|[\s;&|])(?:npm|pnpm|yarn|bun)(?:@\S+)?\s+start\b/.test(command) || /\bnpx\s+(?:--yes\s+)?(?:pnpm|yarn)(?:@\S+)?\s+start\b/.test(command);
  return start ? 'start' : undefined;
}

/** The command text as it finally runs: a script's own text when the command runs a script. */
export function expandScript(command: string, manifest: PackageJson | undefined): string {
  const script = scriptInvoked(command);
  const text = script ? manifest?.scripts[script] : undefined;
  return text ? `${command} => ${text}` : command;
}

/** Runners that take a script file as their first plain argument. */
const FILE_RUNNER = String.raw`(?:^|[\s;&|(])(?:node|nodemon|tsx(?:\s+watch)?|ts-node(?:-dev)?|ts-node-esm|bun(?:\s+run)?|yarn\s+node|\S*\/node)`;
/** Flags before the file: the few that take a separate value, then any `--flag` or `--flag=value`. */
const RUNNER_FLAGS = String.raw`(?:(?:(?:-r|--require|--import|--loader|--experimental-loader|--env-file|--watch-path|-w)\s+\S+|-{1,2}[\w-]+(?:=\S+)?)\s+)*`;
const FILE_RUNNERS = new RegExp(`${FILE_RUNNER}\\s+${RUNNER_FLAGS}([^\\s;&|-][^\\s;&|]*)`, 'g');

/** The files a command runs with node (or tsx, ts-node, nodemon), e.g. `node ./bin/www` → ['bin/www']. */
export function nodeEntryFiles(command: string): string[] {
  const files: string[] = [];
  for (const match of command.matchAll(FILE_RUNNERS)) {
    const file = match[1];
    if (!file || file.startsWith('$') || /^(?:run|start|watch)$/.test(file)) continue;
    files.push(normalisePath(file.replace(/^['"]|['"]$/g, '')));
  }
  return files;
}

/** A port written into a command: `--port 4000`, `-p 4000`, `PORT=4000 node x`, `-b 0.0.0.0:8000`, `runserver 0.0.0.0:8000`. */
export function portNamedIn(command: string): number | undefined {
  const patterns = [
    /(?:^|\s)--port[= ](\d{2,5})\b/,
    /(?:^|\s)-p[= ]?(\d{2,5})\b/,
    /(?:^|[\s;&])PORT=(\d{2,5})\b/,
    /(?:^|\s)(?:-b|--bind)[= ][\w.[\]:-]*:(\d{2,5})\b/,
    /\brunserver\s+(?:[\w.[\]-]+:)?(\d{2,5})\b/,
  ];
  for (const pattern of patterns) {
    const port = pattern.exec(command)?.[1];
    if (port) return Number(port);
  }
  return undefined;
}

/** True when the command hands the port over from the environment ($PORT). */
export function passesPortVariable(command: string): boolean {
  return /\$\{?PORT\}?/.test(command);
}

export function normalisePath(path: string): string {
  return path.replace(/^\.\//, '').replace(/\/+/g, '/').replace(/\/$/, '');
}
