/**
 * A small seccomp program for bwrap's `--seccomp FD` (classic BPF, `struct sock_filter[]`), as a
 * second wall behind the namespaces: no debugging of other processes (the agent shares the
 * tenant's uid), no mounts or new namespaces, no kernel keyrings, BPF, perf, userfaultfd,
 * io_uring, module or clock calls. Everything else is allowed. x86-64 only; elsewhere the
 * launcher says seccomp is off.
 */
const AUDIT_ARCH_X86_64 = 0xc000003e;
const X32_SYSCALL_BIT = 0x40000000;

const SECCOMP_RET_KILL_PROCESS = 0x80000000;
const SECCOMP_RET_ERRNO = 0x00050000;
const SECCOMP_RET_ALLOW = 0x7fff0000;
const EPERM = 1;
const ENOSYS = 38;

const BPF_LD_W_ABS = 0x20;
const BPF_JEQ_K = 0x15;
const BPF_JGE_K = 0x35;
const BPF_JSET_K = 0x45;
const BPF_RET_K = 0x06;

/** Offsets in `struct seccomp_data`. */
const NR_OFFSET = 0;
const ARCH_OFFSET = 4;
const ARG0_LOW_OFFSET = 16;
const ARG1_LOW_OFFSET = 24;

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET | NEWTIME. */
const CLONE_NEW_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;

const SYSCALL_CLONE = 56;
const SYSCALL_IOCTL = 16;

/** Refused with EPERM (x86-64 numbers). */
const DENIED_SYSCALLS: Record<string, number> = {
  ptrace: 101,
  process_vm_readv: 310,
  process_vm_writev: 311,
  pidfd_getfd: 438,
  mount: 165,
  umount2: 166,
  pivot_root: 155,
  chroot: 161,
  unshare: 272,
  setns: 308,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
  keyctl: 250,
  add_key: 248,
  request_key: 249,
  bpf: 321,
  perf_event_open: 298,
  userfaultfd: 323,
  kexec_load: 246,
  kexec_file_load: 320,
  init_module: 175,
  finit_module: 313,
  delete_module: 176,
  reboot: 169,
  swapon: 167,
  swapoff: 168,
  acct: 163,
  settimeofday: 164,
  clock_settime: 227,
  clock_adjtime: 305,
  adjtimex: 159,
  iopl: 172,
  ioperm: 173,
  open_by_handle_at: 304,
  name_to_handle_at: 303,
  quotactl: 179,
  quotactl_fd: 443,
  syslog: 103,
  lookup_dcookie: 212,
  vhangup: 153,
  fanotify_init: 300,
  uselib: 134,
};

/** Answered with ENOSYS, so libc and libuv fall back (clone3 to clone, io_uring to threads). */
const UNAVAILABLE_SYSCALLS: Record<string, number> = {
  clone3: 435,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
};

export function seccompSupported(): boolean {
  return process.arch === 'x64';
}

export const DENIED_SYSCALL_NAMES = Object.freeze([...Object.keys(DENIED_SYSCALLS), ...Object.keys(UNAVAILABLE_SYSCALLS)]);

interface Instruction {
  code: number;
  /** A label to jump to when true / false, or 0 to fall through. */
  jt: string | 0;
  jf: string | 0;
  k: number;
  label?: string;
}

const load = (offset: number, label?: string): Instruction => ({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: offset, ...(label ? { label } : {}) });
const jumpIf = (code: number, k: number, jt: string | 0, jf: string | 0 = 0): Instruction => ({ code, jt, jf, k });
const ret = (k: number, label: string): Instruction => ({ code: BPF_RET_K, jt: 0, jf: 0, k, label });

/** The program as bwrap reads it: 8 bytes per instruction, in host byte order. */
export function buildSeccompFilter(): Buffer {
  const program: Instruction[] = [
    load(ARCH_OFFSET),
    jumpIf(BPF_JEQ_K, AUDIT_ARCH_X86_64, 0, 'kill'),
    load(NR_OFFSET),
    jumpIf(BPF_JGE_K, X32_SYSCALL_BIT, 'kill'),
    jumpIf(BPF_JEQ_K, SYSCALL_CLONE, 'clone'),
    jumpIf(BPF_JEQ_K, SYSCALL_IOCTL, 'ioctl'),
    ...Object.values(DENIED_SYSCALLS).map((nr) => jumpIf(BPF_JEQ_K, nr, 'eperm')),
    ...Object.values(UNAVAILABLE_SYSCALLS).map((nr) => jumpIf(BPF_JEQ_K, nr, 'enosys')),
    ret(SECCOMP_RET_ALLOW, 'allowed'),
    // BPF jumps only forward: the argument checks sit between the list and the shared returns.
    load(ARG0_LOW_OFFSET, 'clone'),
    jumpIf(BPF_JSET_K, CLONE_NEW_NAMESPACES, 'eperm', 'allow'),
    load(ARG1_LOW_OFFSET, 'ioctl'),
    jumpIf(BPF_JEQ_K, TIOCSTI, 'eperm'),
    jumpIf(BPF_JEQ_K, TIOCLINUX, 'eperm', 'allow'),
    ret(SECCOMP_RET_ALLOW, 'allow'),
    ret(SECCOMP_RET_ERRNO | EPERM, 'eperm'),
    ret(SECCOMP_RET_ERRNO | ENOSYS, 'enosys'),
    ret(SECCOMP_RET_KILL_PROCESS, 'kill'),
  ];
  const labels = new Map(program.flatMap((instruction, index) => (instruction.label ? [[instruction.label, index] as const] : [])));
  const offset = (from: number, target: string | 0): number => {
    if (target === 0) return 0;
    const distance = labels.get(target)! - from - 1;
    if (distance < 0 || distance > 255) throw new Error(`seccomp jump to ${target} out of range`);
    return distance;
  };
  const buffer = Buffer.alloc(program.length * 8);
  program.forEach((instruction, index) => {
    buffer.writeUInt16LE(instruction.code, index * 8);
    buffer.writeUInt8(offset(index, instruction.jt), index * 8 + 2);
    buffer.writeUInt8(offset(index, instruction.jf), index * 8 + 3);
    buffer.writeUInt32LE(instruction.k >>> 0, index * 8 + 4);
  });
  return buffer;
}
