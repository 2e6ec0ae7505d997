import type { LogArchive, SavedLogs } from '../../functions/shared/deployments/ports.ts';

/** Saved logs kept in memory, for unit tests of domain code and benchmarks. */
export class MemoryLogArchive implements LogArchive {
  readonly saved = new Map<string, SavedLogs>();

  async save(deploymentId: string, logs: SavedLogs): Promise<void> {
    this.saved.set(deploymentId, structuredClone(logs));
  }

  async load(deploymentId: string): Promise<SavedLogs | undefined> {
    const logs = this.saved.get(deploymentId);
    return logs && structuredClone(logs);
  }
}
