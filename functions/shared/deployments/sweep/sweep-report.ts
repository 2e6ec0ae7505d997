/** What one sweep run did, per case and in total; logged and emitted as metrics. */
export const SWEEP_PHASES = ['expired', 'stuck', 'orphans', 'lost'] as const;
export type SweepPhase = (typeof SWEEP_PHASES)[number];

export interface PhaseCounts {
  examined: number;
  killed: number;
  marked: number;
  errors: number;
}

export interface SweepReport {
  phases: Record<SweepPhase, PhaseCounts>;
  totals: PhaseCounts;
  /** True when the run stopped at its budget; the next run carries on. */
  truncated: boolean;
  durationMs: number;
}

export function emptyCounts(): PhaseCounts {
  return { examined: 0, killed: 0, marked: 0, errors: 0 };
}

export function totalsOf(phases: Record<SweepPhase, PhaseCounts>): PhaseCounts {
  const totals = emptyCounts();
  for (const counts of Object.values(phases)) {
    totals.examined += counts.examined;
    totals.killed += counts.killed;
    totals.marked += counts.marked;
    totals.errors += counts.errors;
  }
  return totals;
}
