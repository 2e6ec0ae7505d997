/**
 * What a manifest deployment wrote into its sandbox, kept in the sandbox itself
 * (`~/.coderunner/app-files.json`, outside the app directory): path -> [sha256, mode]. A redeploy
 * into the sandbox compares its manifest with it, to write only what changed and remove what is
 * gone. Files the app or its build create (node_modules, dist/...) are not in it, so they stay.
 * An inline deployment empties the app directory and removes this record, so a later manifest
 * redeploy writes everything.
 */
import * as z from 'zod';

export const APP_FILES_PATH = '/home/user/.coderunner/app-files.json';
/** NUL-separated paths (relative to the app directory) that a redeploy removes before writing. */
export const REMOVE_LIST_PATH = '/home/user/.coderunner/remove.list';

export interface AppFileState {
  sha256: string;
  mode: number;
}

export type AppFiles = Map<string, AppFileState>;

const storedAppFiles = z.object({ version: z.literal(1), files: z.record(z.string(), z.tuple([z.string(), z.number()])) });

export function serializeAppFiles(files: readonly { path: string; sha256: string; mode: number }[]): string {
  return JSON.stringify({ version: 1, files: Object.fromEntries(files.map((file) => [file.path, [file.sha256, file.mode]])) });
}

/** undefined when the text is not a record we wrote (then the redeploy writes everything). */
export function parseAppFiles(text: string): AppFiles | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const result = storedAppFiles.safeParse(parsed);
  if (!result.success) return undefined;
  return new Map(Object.entries(result.data.files).map(([path, [sha256, mode]]) => [path, { sha256, mode }]));
}

export interface FileSync<File> {
  /** New, or changed in content or mode. */
  write: File[];
  /** In the sandbox's record, not in the manifest. */
  remove: string[];
  unchanged: number;
}

/** What a redeploy changes in the sandbox; with no record (`undefined`) it writes every file. */
export function syncFiles<File extends { path: string; sha256: string; mode: number }>(manifest: readonly File[], current: AppFiles | undefined): FileSync<File> {
  if (!current) return { write: [...manifest], remove: [], unchanged: 0 };
  const wanted = new Set(manifest.map((file) => file.path));
  const write = manifest.filter((file) => {
    const existing = current.get(file.path);
    return !existing || existing.sha256 !== file.sha256 || existing.mode !== file.mode;
  });
  const remove = [...current.keys()].filter((path) => !wanted.has(path)).sort();
  return { write, remove, unchanged: manifest.length - write.length };
}
