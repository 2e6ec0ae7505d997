/**
 * Which launcher a sandbox host uses, and what it tells the operator about it at start.
 * - `bubblewrap` (default): real isolation (see bubblewrap/bubblewrap-launcher.ts); refuses to
 *   start where bubblewrap or user namespaces are missing.
 * - `namespaces`: today's pid+mount namespaces only, an explicit and announced unsafe mode.
 */
import { BubblewrapLauncher } from './bubblewrap/bubblewrap-launcher.ts';
import { NamespaceLauncher } from './namespace-launcher.ts';
import type { ProcessLauncher, ProtectionReport } from './process-launcher.ts';

export const ISOLATION_MODES = ['bubblewrap', 'namespaces'] as const;
export type IsolationMode = (typeof ISOLATION_MODES)[number];

export interface LauncherChoice {
  isolation?: IsolationMode;
  /** `host:port` pairs sandboxes may reach (bubblewrap only). */
  egressAllowList?: readonly string[];
}

export function isIsolationMode(value: string): value is IsolationMode {
  return (ISOLATION_MODES as readonly string[]).includes(value);
}

export function createLauncher({ isolation = 'bubblewrap', egressAllowList }: LauncherChoice = {}): ProcessLauncher {
  if (isolation === 'namespaces') return new NamespaceLauncher();
  return new BubblewrapLauncher(egressAllowList ? { egressAllowList } : {});
}

/** One line for what is on; one line for each protection that is off, and why. */
export function describeProtections(report: ProtectionReport): string[] {
  const lines = [`[sandbox-host] isolation: ${report.launcher}: ${report.enabled.join('; ')}`];
  if (report.disabled.length > 0) {
    lines.push(`[sandbox-host] WARNING: ${report.disabled.length} protection(s) OFF on this machine:`);
    for (const item of report.disabled) lines.push(`[sandbox-host]   OFF ${item}`);
  }
  return lines;
}
