/**
 * The file a Node server starts from when package.json names no start script: `main`, then the
 * conventional server.js / index.js / app.js (and their src/ variants), and the TypeScript source
 * behind a build output such as dist/index.js.
 */
import { normalisePath } from './command-text.ts';
import type { PackageJson, ProjectFiles } from './project-files.ts';

const ENTRY_NAMES = ['server', 'index', 'app', 'main'] as const;
const JAVASCRIPT_EXTENSIONS = ['.js', '.mjs', '.cjs'] as const;
const TYPESCRIPT_EXTENSIONS = ['.ts', '.mts', '.cts'] as const;
/** Folders that compilers write to, and the source folders they read from. */
const OUTPUT_DIRS = ['dist', 'build', 'lib', 'out'] as const;

/** The conventional JavaScript entry files, in the order the plan tries them. */
export const CONVENTIONAL_ENTRIES: readonly string[] = ['', 'src/'].flatMap((dir) =>
  ENTRY_NAMES.flatMap((name) => JAVASCRIPT_EXTENSIONS.map((extension) => `${dir}${name}${extension}`)),
);

/** The same, written in TypeScript. */
export const CONVENTIONAL_TYPESCRIPT_ENTRIES: readonly string[] = ['', 'src/'].flatMap((dir) =>
  ENTRY_NAMES.flatMap((name) => TYPESCRIPT_EXTENSIONS.map((extension) => `${dir}${name}${extension}`)),
);

/** A module path as node resolves it: as written, with a .js/.mjs/.cjs extension, or as a folder's index.js. */
export function resolveModuleFile(files: ProjectFiles, path: string): string | undefined {
  const normalised = normalisePath(path);
  return files.firstExisting([normalised, ...JAVASCRIPT_EXTENSIONS.map((extension) => `${normalised}${extension}`), `${normalised}/index.js`]);
}

/** True when the path lies in a compiler's output folder (dist/, build/, lib/, out/). */
export function isBuildOutput(path: string): boolean {
  return OUTPUT_DIRS.some((dir) => normalisePath(path).startsWith(`${dir}/`));
}

/** The TypeScript (or JavaScript) sources a build output comes from: dist/index.js ← src/index.ts, index.ts. */
export function sourceCandidates(outputPath: string): string[] {
  const normalised = normalisePath(outputPath).replace(/\.(?:m|c)?js$/, '');
  const dir = OUTPUT_DIRS.find((candidate) => normalised.startsWith(`${candidate}/`));
  if (!dir) return [];
  const rest = normalised.slice(dir.length + 1);
  return [`src/${rest}`, rest].flatMap((base) => [...TYPESCRIPT_EXTENSIONS, '.tsx', '.js'].map((extension) => `${base}${extension}`));
}

export interface NodeEntry {
  file: string;
  reason: string;
}

/** `main` in package.json when the file exists (or the build will write it), else the first conventional entry. */
export function findNodeEntry(files: ProjectFiles, manifest: PackageJson | undefined, willBuild: boolean): NodeEntry | undefined {
  if (manifest?.main) {
    const file = resolveModuleFile(files, manifest.main);
    if (file) return { file, reason: `package.json's main is ${manifest.main}` };
    if (willBuild && isBuildOutput(manifest.main)) {
      return { file: normalisePath(manifest.main), reason: `package.json's main is ${manifest.main}, which the build writes` };
    }
  }
  const file = files.firstExisting(CONVENTIONAL_ENTRIES);
  return file ? { file, reason: `${file} found` } : undefined;
}
