/**
 * The dependency cache in memory, keyed as the S3 adapter keys its objects (per owner hash, key
 * and format). URLs are `memory://dependency-cache/<object key>?<get|put>`; a test puts an entry
 * (`store`) or reads what a save would have written (`entries`).
 */
import { dependencyCacheObjectKey } from '../../../functions/shared/adapters/s3-dependency-cache.ts';
import type { DependencyArchiveFormat } from '../../../functions/shared/deployments/dependency-cache/archive-format.ts';
import type { DependencyCache, DependencyCacheEntry } from '../../../functions/shared/deployments/ports.ts';
import { CallControl, type CallControlOptions } from './call-control.ts';

export type DependencyCacheMethod = 'find' | 'restoreUrl' | 'saveUrl';

export class MemoryDependencyCache implements DependencyCache {
  readonly control: CallControl<DependencyCacheMethod>;
  /** Object key -> entry. */
  readonly entries = new Map<string, DependencyCacheEntry>();

  constructor(options: CallControlOptions = {}) {
    this.control = new CallControl('dependencyCache', options);
  }

  /** An entry as a successful save would have left it. */
  store(owner: string, key: string, format: DependencyArchiveFormat, bytes = 1024): void {
    this.entries.set(dependencyCacheObjectKey(owner, key, format), { bytes });
  }

  find(owner: string, key: string, format: DependencyArchiveFormat): Promise<DependencyCacheEntry | undefined> {
    return this.control.call('find', [owner, key, format], () => {
      const entry = this.entries.get(dependencyCacheObjectKey(owner, key, format));
      return entry && { ...entry };
    });
  }

  restoreUrl(owner: string, key: string, format: DependencyArchiveFormat, expiresInSeconds: number): Promise<string> {
    return this.control.call('restoreUrl', [owner, key, format, expiresInSeconds], () => `memory://${dependencyCacheObjectKey(owner, key, format)}?get`);
  }

  saveUrl(owner: string, key: string, format: DependencyArchiveFormat, expiresInSeconds: number): Promise<string> {
    return this.control.call('saveUrl', [owner, key, format, expiresInSeconds], () => `memory://${dependencyCacheObjectKey(owner, key, format)}?put`);
  }
}
