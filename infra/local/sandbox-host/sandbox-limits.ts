/**
 * What one sandbox may use. The control plane picks a profile by `templateID` (as the cloud ties
 * resources to templates) and, as a local extension for tests and operators, takes an optional
 * `limits` object in the create body that overrides single values.
 */
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface SandboxLimits {
  /** Memory of all its processes together (cgroup); past it the kernel OOM-kills one of them. */
  memoryBytes: number;
  /** Processes and threads at once (cgroup pids.max and RLIMIT_NPROC of its uid). */
  processes: number;
  /** CPU time per wall-clock second, in cores (0.5: half of one core). */
  cpus: number;
  /** Its writable trees (/home/user and /tmp) together. */
  diskBytes: number;
  /**
   * Largest single file it may write (RLIMIT_FSIZE: EFBIG, or SIGXFSZ for a program that does
   * not ignore it). By default as large as the disk, so an app's growing log ends at ENOSPC like
   * any other file rather than killing the app; set it lower to cap single files.
   */
  fileSizeBytes: number;
}

export const DEFAULT_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  memoryBytes: 1 * GiB,
  processes: 512,
  cpus: 1,
  diskBytes: 2 * GiB,
  fileSizeBytes: 2 * GiB,
});

export const LIMIT_PROFILES: Readonly<Record<string, Readonly<SandboxLimits>>> = Object.freeze({
  base: DEFAULT_LIMITS,
  small: Object.freeze({ memoryBytes: 512 * MiB, processes: 256, cpus: 0.5, diskBytes: 1 * GiB, fileSizeBytes: 1 * GiB }),
  large: Object.freeze({ memoryBytes: 4 * GiB, processes: 2048, cpus: 2, diskBytes: 10 * GiB, fileSizeBytes: 10 * GiB }),
});

const BOUNDS: Record<keyof SandboxLimits, [min: number, max: number]> = {
  memoryBytes: [64 * MiB, 64 * GiB],
  processes: [16, 65_536],
  cpus: [0.05, 64],
  diskBytes: [16 * MiB, 1024 * GiB],
  fileSizeBytes: [1 * MiB, 1024 * GiB],
};

export class SandboxLimitsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SandboxLimitsError';
  }
}

/**
 * The limits of a new sandbox: its template's profile (any other template, such as the SDK's
 * default `agentsphere-code-interpreter-v1`, gets the defaults) with the request's overrides on top.
 */
export function resolveLimits(templateId: string, override: unknown): SandboxLimits {
  const profile = Object.hasOwn(LIMIT_PROFILES, templateId) ? LIMIT_PROFILES[templateId]! : DEFAULT_LIMITS;
  return { ...profile, ...parseOverride(override) };
}

function parseOverride(value: unknown): Partial<SandboxLimits> {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new SandboxLimitsError('limits must be an object');
  const override: Partial<SandboxLimits> = {};
  for (const [key, item] of Object.entries(value)) {
    const bounds = BOUNDS[key as keyof SandboxLimits];
    if (!bounds) throw new SandboxLimitsError(`unknown limit "${key}" (known: ${Object.keys(BOUNDS).join(', ')})`);
    const [min, max] = bounds;
    const integral = key !== 'cpus';
    if (typeof item !== 'number' || !Number.isFinite(item) || (integral && !Number.isInteger(item)) || item < min || item > max) {
      throw new SandboxLimitsError(`limits.${key} must be a${integral ? 'n integer' : ' number'} from ${min} to ${max}`);
    }
    override[key as keyof SandboxLimits] = item;
  }
  return override;
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${Math.round((bytes / GiB) * 10) / 10} GiB`;
  if (bytes >= MiB) return `${Math.round((bytes / MiB) * 10) / 10} MiB`;
  return `${bytes} B`;
}

export function describeLimits(limits: SandboxLimits): string {
  return `memory ${formatBytes(limits.memoryBytes)}, ${limits.processes} processes, ${limits.cpus} CPU, disk ${formatBytes(limits.diskBytes)}, files up to ${formatBytes(limits.fileSizeBytes)}`;
}
