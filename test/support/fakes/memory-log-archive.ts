/** Saved logs kept in memory, for unit tests of domain code and benchmarks. */
import type { LogArchive, SavedLogs } from '../../../functions/shared/deployments/ports.ts';
import { CallControl, type CallControlOptions } from './call-control.ts';

export type LogArchiveMethod = 'save' | 'load';

export class MemoryLogArchive implements LogArchive {
  readonly control: CallControl<LogArchiveMethod>;
  readonly saved = new Map<string, SavedLogs>();

  constructor(options: CallControlOptions = {}) {
    this.control = new CallControl('logArchive', options);
  }

  save(deploymentId: string, logs: SavedLogs): Promise<void> {
    return this.control.call('save', [deploymentId, logs], () => {
      this.saved.set(deploymentId, structuredClone(logs));
    });
  }

  load(deploymentId: string): Promise<SavedLogs | undefined> {
    return this.control.call('load', [deploymentId], () => {
      const logs = this.saved.get(deploymentId);
      return logs && structuredClone(logs);
    });
  }
}
