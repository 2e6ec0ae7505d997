/**
 * A project directory as the `files` of a deployment request:
 * - `.gitignore` files are respected (the root's and nested ones, each for its own directory, a
 *   deeper rule winning over a shallower one, as git does);
 * - `node_modules`, `.git` and `.coderunner` (the local stack's state, with its token) are always
 *   skipped;
 * - text files are sent as UTF-8, anything else (NUL bytes, or bytes that do not survive a UTF-8
 *   round trip) as base64;
 * - the API's limits are checked here first, naming the files that break them.
 */
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import ignore from 'ignore';
import type { RequestFile } from './api-types.ts';
import { CliError } from './errors.ts';
import { formatBytes } from './format.ts';
import { DEFAULT_LIMITS, type DeploymentLimits as ApiDeploymentLimits } from '../functions/shared/deployments/deployment-limits.ts';
import { isProjectId, PROJECT_ID_RULE } from '../functions/shared/deployments/project-id.ts';

/** The API's own limits of an inline request: a project within them goes inline, any other by manifest. */
export const DEPLOYMENT_LIMITS = DEFAULT_LIMITS;
export type DeploymentLimits = Pick<ApiDeploymentLimits, 'maxFiles' | 'maxFileBytes' | 'maxTotalBytes'>;

const ALWAYS_SKIPPED = new Set(['node_modules', '.git', '.coderunner']);
const LISTED_PROBLEMS = 10;

export interface ProjectSnapshot {
  root: string;
  files: RequestFile[];
  totalBytes: number;
  /** Files and directories left out by .gitignore rules. */
  ignored: number;
  /** Symbolic links to directories, left out (they may loop). */
  skippedLinks: string[];
}

export interface FoundFile {
  path: string;
  absolutePath: string;
  size: number;
}

/** The files a deployment of the directory takes, found but not read. */
export interface ProjectListing {
  root: string;
  found: FoundFile[];
  ignored: number;
  skippedLinks: string[];
}

type Ignore = ReturnType<typeof ignore>;

interface IgnoreLayer {
  /** The directory of the .gitignore, relative to the root ('' for the root). */
  base: string;
  rules: Ignore;
}

/** The project id a directory deploys as by default: its name, made valid. */
export function projectIdFor(directory: string): string {
  const id = basename(resolve(directory))
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 128);
  return id || 'app';
}

export function checkProjectId(projectId: string): string {
  if (!isProjectId(projectId)) {
    throw new CliError(`--project "${projectId}" is not a valid project id: it ${PROJECT_ID_RULE}.`);
  }
  return projectId;
}

export async function readProject(directory: string, limits: DeploymentLimits = DEPLOYMENT_LIMITS): Promise<ProjectSnapshot> {
  const { root, found, ...walk } = await listProject(directory);
  checkLimits(directory, found, limits);

  const files: RequestFile[] = [];
  let totalBytes = 0;
  for (const file of found) {
    const bytes = await readFile(file.absolutePath);
    totalBytes += bytes.length;
    files.push({ path: file.path, ...encode(bytes) });
  }
  // A file that grew while being read is caught by the API's own check.
  return { root, files, totalBytes, ignored: walk.ignored, skippedLinks: walk.skippedLinks };
}

/** True when the files fit in one request with their contents (otherwise they go by manifest). */
export function fitsInline(found: readonly FoundFile[], limits: DeploymentLimits = DEPLOYMENT_LIMITS): boolean {
  const total = found.reduce((sum, file) => sum + file.size, 0);
  return found.length <= limits.maxFiles && total <= limits.maxTotalBytes && found.every((file) => file.size <= limits.maxFileBytes);
}

export async function listProject(directory: string): Promise<ProjectListing> {
  const root = resolve(directory);
  const rootStat = await stat(root).catch(() => undefined);
  if (!rootStat) throw new CliError(`${directory} does not exist: pass the directory of the project to deploy.`);
  if (!rootStat.isDirectory()) throw new CliError(`${directory} is not a directory: pass the directory of the project to deploy.`);

  const found: FoundFile[] = [];
  const walk: Walk = { root: await realpath(root), ignored: 0, skippedLinks: [] };
  await collect(root, '', [], found, walk);
  found.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (found.length === 0) {
    throw new CliError(`${directory} has no files to deploy${walk.ignored ? ` (${walk.ignored} entries are ignored by .gitignore)` : ''}.`);
  }
  return { root, found, ignored: walk.ignored, skippedLinks: walk.skippedLinks };
}

/** Text as UTF-8; anything with a NUL byte or that is not valid UTF-8 as base64. */
export function encode(bytes: Buffer): Pick<RequestFile, 'content' | 'encoding'> {
  if (!bytes.includes(0)) {
    const text = bytes.toString('utf8');
    if (Buffer.from(text, 'utf8').equals(bytes)) return { content: text, encoding: 'utf8' };
  }
  return { content: bytes.toString('base64'), encoding: 'base64' };
}

interface Walk {
  /** The project's real path: a link may only bring in what lies under it. */
  root: string;
  ignored: number;
  skippedLinks: string[];
}

async function collect(absoluteDir: string, relativeDir: string, parentLayers: IgnoreLayer[], found: FoundFile[], walk: Walk): Promise<void> {
  const entries = await readdir(absoluteDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read the directory ${absoluteDir} (${error.code ?? error.message}).`, { cause: error });
  });
  const layers = [...parentLayers];
  if (entries.some((entry) => entry.name === '.gitignore' && !entry.isDirectory())) {
    const rules = await readFile(join(absoluteDir, '.gitignore'), 'utf8').catch(() => '');
    layers.push({ base: relativeDir, rules: ignore().add(rules) });
  }
  for (const entry of entries) {
    if (ALWAYS_SKIPPED.has(entry.name)) continue;
    const path = relativeDir ? `${relativeDir}/${entry.name}` : entry.name;
    const absolutePath = join(absoluteDir, entry.name);
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await stat(absolutePath).catch(() => undefined);
      // A linked directory could loop; a link out of the project (a cloned repo's link to
      // ~/.aws/credentials, say) would upload a file the project does not hold.
      if (target?.isDirectory() || (target && !isWithin(walk.root, await realpath(absolutePath)))) {
        walk.skippedLinks.push(path);
        continue;
      }
      isFile = target?.isFile() ?? false;
      isDirectory = false;
    }
    if (!isDirectory && !isFile) continue; // sockets, FIFOs, devices, dangling links
    if (isIgnored(layers, path, isDirectory)) {
      walk.ignored++;
      continue;
    }
    if (isDirectory) {
      await collect(absolutePath, path, layers, found, walk);
    } else {
      const { size } = entry.isSymbolicLink() ? await stat(absolutePath) : await lstat(absolutePath);
      found.push({ path, absolutePath, size });
    }
  }
}

function isWithin(root: string, path: string): boolean {
  const inside = relative(root, path);
  return inside !== '' && !inside.startsWith('..') && !isAbsolute(inside);
}

/** Git's rule: the last matching pattern decides, and deeper .gitignore files come later. */
function isIgnored(layers: IgnoreLayer[], path: string, isDirectory: boolean): boolean {
  let ignored = false;
  for (const { base, rules } of layers) {
    const relative = base ? path.slice(base.length + 1) : path;
    const result = rules.test(isDirectory ? `${relative}/` : relative);
    if (result.ignored) ignored = true;
    else if (result.unignored) ignored = false;
  }
  return ignored;
}

export function checkLimits(directory: string, files: FoundFile[], limits: DeploymentLimits): void {
  const problems: string[] = [];
  const details: string[] = [];
  const hint = 'Add what the app does not need at run time (build output, data, media) to .gitignore.';
  if (files.length > limits.maxFiles) {
    problems.push(`it has ${files.length} files and a deployment takes at most ${limits.maxFiles}`);
  }
  const tooBig = files.filter((file) => file.size > limits.maxFileBytes).sort((a, b) => b.size - a.size);
  if (tooBig.length > 0) {
    problems.push(`${tooBig.length === 1 ? '1 file is' : `${tooBig.length} files are`} over the limit of ${formatBytes(limits.maxFileBytes)} per file`);
    details.push(...tooBig.slice(0, LISTED_PROBLEMS).map((file) => `${file.path}: ${formatBytes(file.size)}`));
    if (tooBig.length > LISTED_PROBLEMS) details.push(`... and ${tooBig.length - LISTED_PROBLEMS} more`);
  }
  const total = files.reduce((sum, file) => sum + file.size, 0);
  if (total > limits.maxTotalBytes) {
    problems.push(`its files total ${formatBytes(total)} and a deployment takes at most ${formatBytes(limits.maxTotalBytes)}`);
    if (tooBig.length === 0) {
      const largest = [...files].sort((a, b) => b.size - a.size).slice(0, 5);
      details.push('the largest files:', ...largest.map((file) => `${file.path}: ${formatBytes(file.size)}`));
    }
  }
  if (problems.length > 0) {
    throw new CliError(`${directory} is too big to deploy: ${problems.join('; ')}. ${hint}`, { details });
  }
}
