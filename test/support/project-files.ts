/** A fixture directory as the `files` of a deployment request (binary files base64-encoded). */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FIXTURE_APPS = fileURLToPath(new URL('../fixtures/apps/', import.meta.url));

export interface RequestFile {
  path: string;
  content: string;
  encoding: 'utf8' | 'base64';
}

export async function projectFiles(appName: string): Promise<RequestFile[]> {
  const root = join(FIXTURE_APPS, appName);
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile());
  return Promise.all(
    files.map(async (entry) => {
      const path = join(entry.parentPath, entry.name);
      const bytes = await readFile(path);
      const text = bytes.toString('utf8');
      const isText = Buffer.from(text, 'utf8').equals(bytes);
      return { path: relative(root, path), content: isText ? text : bytes.toString('base64'), encoding: isText ? 'utf8' : 'base64' };
    }),
  );
}
