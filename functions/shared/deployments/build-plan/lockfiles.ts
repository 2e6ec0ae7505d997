/**
 * What a lockfile says about the package manager that wrote it: which lockfiles exist, Yarn
 * classic or Berry (and which Berry), and the pnpm lockfile version.
 */
import type { ProjectFiles } from './project-files.ts';

export type LockfileName = 'package-lock.json' | 'npm-shrinkwrap.json' | 'pnpm-lock.yaml' | 'yarn.lock' | 'bun.lock' | 'bun.lockb';

/** In the order the plan prefers them when several exist: npm is always in the sandbox. */
export const LOCKFILES: readonly LockfileName[] = ['npm-shrinkwrap.json', 'package-lock.json', 'pnpm-lock.yaml', 'yarn.lock', 'bun.lock', 'bun.lockb'];

export type LockfileOwner = 'npm' | 'pnpm' | 'yarn' | 'bun';

export function lockfileOwner(lockfile: LockfileName): LockfileOwner {
  if (lockfile === 'package-lock.json' || lockfile === 'npm-shrinkwrap.json') return 'npm';
  if (lockfile === 'pnpm-lock.yaml') return 'pnpm';
  if (lockfile === 'yarn.lock') return 'yarn';
  return 'bun';
}

export function presentLockfiles(files: ProjectFiles): LockfileName[] {
  return LOCKFILES.filter((lockfile) => files.has(lockfile));
}

export type YarnLockfile =
  | { flavour: 'classic' }
  /** `metadataVersion` is `__metadata.version`; `cacheKeyChecksums` tells 4.0 (plain) from 4.1+ (`10c0/...`) lockfiles. */
  | { flavour: 'berry'; metadataVersion?: number; cacheKeyChecksums: boolean }
  | { flavour: 'unknown' };

/** Classic lockfiles start with "# yarn lockfile v1"; Berry's are YAML with a `__metadata:` block. */
export function readYarnLockfile(text: string | undefined): YarnLockfile {
  if (text === undefined) return { flavour: 'unknown' };
  if (/^__metadata:/m.test(text)) {
    const version = /^__metadata:\s*\n(?:[ \t]+.*\n)*?[ \t]+version:\s*(\d+)/m.exec(text)?.[1];
    return { flavour: 'berry', metadataVersion: version ? Number(version) : undefined, cacheKeyChecksums: /^\s+checksum:\s*\w+\//m.test(text) };
  }
  if (/^# yarn lockfile v1/m.test(text)) return { flavour: 'classic' };
  return { flavour: 'unknown' };
}

/**
 * The Yarn Berry release that reads this lockfile without rewriting it: `--immutable` fails when
 * the running Yarn would change even the lockfile's format version or checksum prefix (measured:
 * Yarn 4.18 refuses a lockfile of 4.1-4.13, and 4.13 one of 4.0).
 */
export function berryReleaseForLockfile(lockfile: Extract<YarnLockfile, { flavour: 'berry' }>): { version: string; known: boolean } {
  switch (lockfile.metadataVersion) {
    case 4:
      return { version: '2.4.2', known: true };
    case 5:
      return { version: '3.1.1', known: true };
    case 6:
      return { version: '3.8.7', known: true };
    case 8:
      return { version: lockfile.cacheKeyChecksums ? '4.13.0' : '4.0.2', known: true };
    case 9:
      return { version: '4.14.1', known: true };
    case 10:
      return { version: '4.18.1', known: true };
    default:
      return { version: '4', known: false };
  }
}

/** `lockfileVersion` of a pnpm-lock.yaml, e.g. '9.0', '6.0', '5.4'. */
export function readPnpmLockfileVersion(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return /^lockfileVersion:\s*['"]?([\d.]+)['"]?/m.exec(text)?.[1];
}

/** The pnpm major that writes this lockfile version (pnpm 9 and 10 both write 9.0). */
export function pnpmMajorForLockfile(lockfileVersion: string | undefined): number | undefined {
  if (lockfileVersion === undefined) return undefined;
  const [major, minor = 0] = lockfileVersion.split('.').map(Number) as [number, number?];
  if (major === 9) return 9;
  if (major === 6) return 8;
  if (major === 5 && minor >= 4) return 7;
  if (major === 5) return 6;
  return undefined;
}
