/**
 * How the host starts bwrap: a bash script run as the host user with the host's minimal env. It
 * closes every inherited descriptor except the ones passed on purpose (bwrap passes the rest on to
 * the sandbox), joins the sandbox's cgroups before anything of the sandbox runs, protects the
 * agent from the OOM killer (where the host may: CAP_SYS_RESOURCE), sets the rlimits, and (as root) becomes the sandbox's own uid, then
 * execs bwrap. The same pid is bwrap in the end: killing it ends the sandbox.
 */
import { hostTool } from '../host-tools.ts';

/** Descriptors of the launch: the agent's IPC channel, and what bwrap reads. */
export const LAUNCH_FDS = { ipc: 3, args: 4, seccomp: 5, info: 6 } as const;

const SCRIPT = `
bwrap=$1 setpriv=$2 uid=$3 nproc=$4 fsize=$5 oom=$6; shift 6
procs=()
while [ "$1" != "--" ]; do procs+=("$1"); shift; done; shift
for entry in /proc/self/fd/*; do
  fd=\${entry##*/}
  case $fd in 0|1|2|3|4|5|6) ;; *) eval "exec $fd>&-" 2>/dev/null ;; esac
done
for file in "\${procs[@]}"; do echo $$ > "$file" || exit 97; done
if [ "$oom" = protect ]; then echo -1000 > /proc/self/oom_score_adj || exit 97; fi
ulimit -c 0 -u "$nproc" -f "$fsize" || exit 98
# bash's own variables would reach bwrap's pid 1, whose environment the sandbox can read.
unset PWD OLDPWD SHLVL
if [ "$uid" = "-" ]; then exec "$bwrap" "$@"; fi
exec "$setpriv" --reuid="$uid" --regid="$uid" --clear-groups --no-new-privs -- "$bwrap" "$@"
`;

export interface LaunchInput {
  /** The sandbox's host uid, or undefined to stay the host user (not root). */
  uid: number | undefined;
  processLimit: number;
  fileSizeBytes: number;
  /** cgroup.procs files to join. */
  cgroupProcs: string[];
  /** Give bwrap and the agent oom_score_adj -1000 (needs CAP_SYS_RESOURCE). */
  protectFromOom: boolean;
  /** bwrap's options on its command line (the rest comes through --args). */
  bwrapArgs: string[];
  /** What bwrap runs. */
  command: readonly string[];
}

export const LAUNCH_EXIT_CODES: Record<number, string> = {
  97: 'could not join the sandbox cgroups or set the OOM score of its agent',
  98: 'could not set the sandbox rlimits',
};

/** The program and arguments to spawn. */
export function launchCommand(input: LaunchInput): { command: string; args: string[] } {
  return {
    command: hostTool('bash'),
    args: [
      '--norc',
      '--noprofile',
      '-c',
      SCRIPT,
      'coderunner-sandbox-launch',
      hostTool('bwrap'),
      input.uid === undefined ? '-' : hostTool('setpriv'),
      input.uid === undefined ? '-' : String(input.uid),
      String(input.processLimit),
      String(Math.ceil(input.fileSizeBytes / 1024)),
      input.protectFromOom ? 'protect' : '-',
      ...input.cgroupProcs,
      '--',
      ...input.bwrapArgs,
      '--args',
      String(LAUNCH_FDS.args),
      '--',
      ...input.command,
    ],
  };
}
