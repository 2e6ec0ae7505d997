/**
 * The bwrap invocation of one sandbox: its own user, pid, ipc, uts, network and cgroup
 * namespaces; the system's /usr and a few /etc files read-only; a synthetic /etc for the rest;
 * its own /proc and a minimal /dev; only its own /home/user and /tmp writable; its cgroup files
 * read-only at the standard place; no capabilities, no further user namespaces, seccomp; the agent
 * as the one command.
 */
import { existsSync, readdirSync, readlinkSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import type { AgentBundle } from './agent-bundle.ts';
import type { SandboxCgroups } from './cgroup-v1.ts';

/** The sandbox's user, as it sees itself. */
export const SANDBOX_UID = 1000;
export const AGENT_NODE = '/opt/coderunner/node';
export const AGENT_SCRIPT = '/opt/coderunner/agent/sandbox-agent.js';

/** Host /etc entries that programs need and that say nothing about the host. */
const HOST_ETC = [
  'ssl',
  'ca-certificates.conf',
  'alternatives',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'timezone',
  'protocols',
  'services',
  'mime.types',
  'bash.bashrc',
  'inputrc',
  'os-release',
  'debian_version',
  'npmrc',
  'perl',
  'terminfo',
  'magic',
  'magic.mime',
];

export interface BwrapArgumentsInput {
  bundle: AgentBundle;
  cgroups: SandboxCgroups;
  /** Descriptors bwrap reads, as the launch script keeps them. */
  fds: { seccomp?: number; info: number };
}

/**
 * Options visible on the host's command line (nothing secret): the sandbox's own directories, and
 * its id as hostname, which tells operators which sandbox a bwrap process is. bwrap runs as the
 * sandbox's uid, so every directory above them must be searchable by others (see checkStateDir).
 */
export function visibleBwrapArguments({ sandboxId, rootDir }: { sandboxId: string; rootDir: string }): string[] {
  return [
    '--unshare-uts',
    '--hostname', `sandbox-${sandboxId}`,
    '--bind', join(rootDir, 'home', 'user'), '/home/user',
    '--bind', join(rootDir, 'tmp'), '/tmp',
  ];
}

/** The other options, passed through `--args FD`. */
export function bwrapArguments({ bundle, cgroups, fds }: BwrapArgumentsInput): string[] {
  return [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-net',
    '--unshare-cgroup-try',
    '--disable-userns',
    '--die-with-parent',
    '--new-session',
    '--cap-drop', 'ALL',
    '--uid', String(SANDBOX_UID),
    '--gid', String(SANDBOX_UID),
    '--ro-bind', '/usr', '/usr',
    ...rootSymlinks(),
    '--proc', '/proc',
    '--dev', '/dev',
    '--dir', '/etc',
    ...HOST_ETC.flatMap((name) => ['--ro-bind-try', `/etc/${name}`, `/etc/${name}`]),
    ...pythonEtc(),
    ...readdirSync(bundle.etcDir).flatMap((name) => ['--ro-bind', join(bundle.etcDir, name), `/etc/${name}`]),
    '--ro-bind', bundle.node, AGENT_NODE,
    '--ro-bind', bundle.agentDir, '/opt/coderunner/agent',
    ...Object.entries(cgroups).flatMap(([controller, dir]) => ['--ro-bind', dir, `/sys/fs/cgroup/${controller}`]),
    // The root itself (a tmpfs bwrap builds) is read-only: nothing can be written outside the binds.
    '--remount-ro', '/',
    '--chdir', '/home/user',
    '--clearenv',
    '--setenv', 'PATH', '/usr/bin:/bin',
    '--setenv', 'HOME', '/home/user',
    '--setenv', 'LANG', 'C.UTF-8',
    // The agent's IPC channel to the host is the launch script's fd 3.
    '--setenv', 'NODE_CHANNEL_FD', '3',
    '--setenv', 'NODE_CHANNEL_SERIALIZATION_MODE', 'json',
    ...(fds.seccomp !== undefined ? ['--seccomp', String(fds.seccomp)] : []),
    '--info-fd', String(fds.info),
  ];
}

/** The sandbox's one command (bwrap takes the command from its command line only, not from --args). */
export const AGENT_COMMAND = Object.freeze([AGENT_NODE, '--max-old-space-size=64', AGENT_SCRIPT]);

/** /bin, /lib, ... as the host has them (merged /usr: symlinks into /usr). */
function rootSymlinks(): string[] {
  const links: string[] = [];
  for (const name of ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32']) {
    const path = `/${name}`;
    if (!existsSync(path)) continue;
    if (lstatSync(path).isSymbolicLink()) links.push('--symlink', readlinkSync(path), path);
    else links.push('--ro-bind', path, path);
  }
  return links;
}

function pythonEtc(): string[] {
  return readdirSync('/etc')
    .filter((name) => /^python3(\.\d+)?$/.test(name))
    .flatMap((name) => ['--ro-bind', `/etc/${name}`, `/etc/${name}`]);
}
