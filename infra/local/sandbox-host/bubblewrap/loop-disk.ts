/**
 * A disk quota per sandbox: a sparse file formatted as ext4 and loop-mounted on the sandbox's root
 * directory, so its /home/user and /tmp together end with ENOSPC at the limit. The image only
 * takes the blocks written (a new one is about 1 MiB); the loop device goes away at unmount.
 */
import { existsSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { findHostTool, runHostTool } from '../host-tools.ts';

/** Why loop disks cannot be used here, or undefined when they can. */
export function loopDiskUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  if (!existsSync('/dev/loop-control')) return 'no /dev/loop-control';
  for (const tool of ['mkfs.ext4', 'mount', 'umount'] as const) if (!findHostTool(tool)) return `${tool} is not installed`;
  return undefined;
}

export async function createLoopDisk(image: string, mountPoint: string, bytes: number): Promise<void> {
  const file = await open(image, 'w', 0o600);
  try {
    await file.truncate(bytes);
  } finally {
    await file.close();
  }
  // No journal and lazy inode tables: a throwaway disk, formatted in about 10 ms.
  await runHostTool('mkfs.ext4', ['-q', '-F', '-O', '^has_journal', '-E', 'lazy_itable_init=1,lazy_journal_init=1,nodiscard', '-m', '0', '-i', '8192', image]);
  await runHostTool('mount', ['-t', 'ext4', '-o', 'loop,nosuid,nodev,noatime,noinit_itable', image, mountPoint]);
}

/** Deletes the image of an unmounted loop disk; missing pieces are fine. */
export async function removeLoopDiskImage(image: string): Promise<void> {
  await rm(image, { force: true });
}

/** Unmounts what is mounted at these paths, in this order, in one umount (lazily if something still holds one). */
export async function unmount(mountPoints: string[]): Promise<void> {
  const mounted = await mountedPaths();
  const targets = mountPoints.filter((path) => mounted.has(escapeMountPath(path)));
  if (targets.length === 0) return;
  await runHostTool('umount', targets).catch(() => runHostTool('umount', ['-l', ...targets]).catch(() => {}));
}

async function mountedPaths(): Promise<Set<string>> {
  const mounts = await readFile('/proc/self/mountinfo', 'utf8');
  return new Set(mounts.split('\n').map((line) => line.split(' ')[4] ?? ''));
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function escapeMountPath(path: string): string {
  return path.replace(/[ \t\n\\]/g, (character) => `\\${character.charCodeAt(0).toString(8).padStart(3, '0')}`);
}
