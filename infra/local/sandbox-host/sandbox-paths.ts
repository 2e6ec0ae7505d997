/**
 * Maps the paths the protocol speaks of (`/home/user/...`, `/tmp/...`, or relative to the home
 * directory) to the sandbox's directory on the host, refusing anything that would leave it,
 * symlinks included (the sandbox can create symlinks; the host must not follow them out).
 */
import { lstat, realpath } from 'node:fs/promises';
import { dirname, join, posix, relative, isAbsolute } from 'node:path';

export const SANDBOX_HOME = '/home/user';
/** The trees of a sandbox that exist on the host; everything else is the shared read-only system. */
const MAPPED_ROOTS = ['/home', '/tmp'];

export class SandboxPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxPathError';
  }
}

/** The absolute path inside the sandbox. */
export function sandboxPath(path: string): string {
  if (path.includes('\0')) throw new SandboxPathError('path contains a NUL byte');
  return posix.resolve(SANDBOX_HOME, path);
}

/** The host path behind a sandbox path; throws SandboxPathError outside the sandbox's trees. */
export async function hostPath(rootDir: string, path: string): Promise<string> {
  const inside = sandboxPath(path);
  if (!MAPPED_ROOTS.some((root) => inside === root || inside.startsWith(`${root}/`))) {
    throw new SandboxPathError(`${inside} is outside the sandbox's writable trees (${MAPPED_ROOTS.join(', ')})`);
  }
  const target = join(rootDir, inside);
  await assertNoEscape(rootDir, target);
  return target;
}

/** The sandbox path of a host path under rootDir. */
export function toSandboxPath(rootDir: string, target: string): string {
  return `/${relative(rootDir, target).split('\\').join('/')}`;
}

async function assertNoEscape(rootDir: string, target: string): Promise<void> {
  const realRoot = await realpath(rootDir);
  let existing = target;
  // The deepest ancestor that exists decides where the path really leads.
  for (;;) {
    try {
      const resolved = await realpath(existing);
      const rel = relative(realRoot, resolved);
      if (rel.startsWith('..') || isAbsolute(rel)) {
        throw new SandboxPathError(`${toSandboxPath(rootDir, target)} leads outside the sandbox`);
      }
      return;
    } catch (error) {
      if (error instanceof SandboxPathError) throw error;
      const info = await lstat(existing).catch(() => undefined);
      // A dangling symlink could still point outside once something is written through it.
      if (info?.isSymbolicLink()) throw new SandboxPathError(`${toSandboxPath(rootDir, existing)} is a dangling symlink`);
      // Created meanwhile (another file of the same batch): resolve it again.
      if (info) continue;
      const parent = dirname(existing);
      if (parent === existing) return;
      existing = parent;
    }
  }
}
