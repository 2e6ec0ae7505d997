/**
 * The uploaded files as the plan reads them: which paths exist, the text of small config files
 * (package.json, lockfile headers, Procfile, requirements, entry files) and the root package.json.
 */
import { PlanError } from './plan-error.ts';
import type { ProjectFile } from './plan-types.ts';

/** The fields of package.json the plan uses, normalised (missing maps are empty). */
export interface PackageJson {
  main?: string;
  type?: string;
  packageManager?: string;
  scripts: Readonly<Record<string, string>>;
  dependencies: Readonly<Record<string, string>>;
  devDependencies: Readonly<Record<string, string>>;
  workspaces?: unknown;
  /** `engines.node`: the Node versions the app says it runs on. */
  nodeEngine?: string;
}

const decoder = new TextDecoder();

export class ProjectFiles {
  readonly #byPath: Map<string, ProjectFile>;

  constructor(files: readonly ProjectFile[]) {
    this.#byPath = new Map(files.map((file) => [file.path, file]));
  }

  get paths(): string[] {
    return [...this.#byPath.keys()];
  }

  has(path: string): boolean {
    return this.#byPath.has(path);
  }

  /** The file's text; undefined when the file is absent or its content was not provided. */
  text(path: string): string | undefined {
    const content = this.#byPath.get(path)?.content;
    if (content === undefined) return undefined;
    return typeof content === 'string' ? content : decoder.decode(content);
  }

  /** The first of these paths that exists. */
  firstExisting(candidates: readonly string[]): string | undefined {
    return candidates.find((candidate) => this.has(candidate));
  }

  /** True when some file lies inside `dir` (e.g. 'dist' has 'dist/index.js'). */
  hasDirectory(dir: string): boolean {
    const prefix = `${dir}/`;
    return this.paths.some((path) => path.startsWith(prefix));
  }
}

/** The root package.json, or undefined when there is none. A broken one is a PlanError naming the file. */
export function readPackageJson(files: ProjectFiles): PackageJson | undefined {
  if (!files.has('package.json')) return undefined;
  const text = files.text('package.json');
  if (text === undefined) return { scripts: {}, dependencies: {}, devDependencies: {} };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw new PlanError('files', `package.json is not valid JSON: ${(error as Error).message}`);
  }
  if (!isRecord(parsed)) throw new PlanError('files', 'package.json must hold a JSON object');
  return {
    main: stringOrUndefined(parsed.main),
    type: stringOrUndefined(parsed.type),
    packageManager: stringOrUndefined(parsed.packageManager),
    scripts: nonEmpty(stringRecord(parsed.scripts)),
    dependencies: stringRecord(parsed.dependencies),
    devDependencies: stringRecord(parsed.devDependencies),
    workspaces: parsed.workspaces,
    nodeEngine: isRecord(parsed.engines) ? stringOrUndefined(parsed.engines.node) : undefined,
  };
}

/** The command of the Procfile's `web:` process, as written. */
export function readProcfileWeb(files: ProjectFiles): string | undefined {
  const text = files.text('Procfile');
  if (text === undefined) return undefined;
  for (const line of text.split(/\r?\n/)) {
    const match = /^web\s*:\s*(.+?)\s*$/.exec(line);
    if (match?.[1]) return match[1];
  }
  return undefined;
}

/** Folders below the root that hold their own package.json (node_modules aside): a monorepo or a nested app. */
export function nestedPackageJsonDirs(files: ProjectFiles): string[] {
  return files.paths
    .filter((path) => path.endsWith('/package.json') && !path.split('/').includes('node_modules'))
    .map((path) => path.slice(0, -'/package.json'.length))
    .sort((a, b) => a.split('/').length - b.split('/').length || a.localeCompare(b));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** An empty script runs nothing: the same as no script. */
function nonEmpty(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value.trim() !== ''));
}

function stringRecord(value: unknown): Record<string, string> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
