/**
 * The host-side helper programs (bwrap, nsenter, setpriv, mount, mkfs...), always run by absolute
 * path with the host's own minimal environment. Node's `spawn(cmd, args, { env })` looks `cmd` up
 * on `env.PATH`: with a tenant's env there, a tenant-chosen PATH (or LD_PRELOAD) picks the program
 * the host runs as root. A tenant's env is applied inside the sandbox only.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

/** The only environment a host-side helper ever gets. */
export const HOST_TOOL_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
  LANG: 'C.UTF-8',
});

const TRUSTED_DIRS = ['/usr/bin', '/usr/sbin', '/bin', '/sbin'];

export type HostTool = 'bash' | 'bwrap' | 'nsenter' | 'setpriv' | 'unshare' | 'mount' | 'umount' | 'mkfs.ext4' | 'losetup';

export class HostToolMissingError extends Error {
  constructor(tool: string) {
    super(`${tool} is not installed in ${TRUSTED_DIRS.join(', ')}`);
    this.name = 'HostToolMissingError';
  }
}

const found = new Map<HostTool, string | undefined>();

/** The absolute path of a helper in the system's own directories, or undefined. */
export function findHostTool(tool: HostTool): string | undefined {
  if (!found.has(tool)) {
    found.set(tool, TRUSTED_DIRS.map((dir) => `${dir}/${tool}`).find((path) => isExecutable(path)));
  }
  return found.get(tool);
}

export function hostTool(tool: HostTool): string {
  const path = findHostTool(tool);
  if (!path) throw new HostToolMissingError(tool);
  return path;
}

/** Runs a helper to completion; rejects with its stderr when it fails. */
export function runHostTool(tool: HostTool, args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(hostTool(tool), args, { env: HOST_TOOL_ENV, timeout: timeoutMs, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${tool} ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      resolve(stdout);
    });
  });
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
