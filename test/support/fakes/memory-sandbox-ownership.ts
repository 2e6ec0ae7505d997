/**
 * Which deployment owns each sandbox, in memory, as the DynamoDB adapter keeps it (the contract
 * test runs the same suite against both):
 * - the create step records the creator as the owner; a later record of another deployment does
 *   not take an owned sandbox back, the same one again is a no-op;
 * - a hand-over moves the sandbox from `from` to `to` only while `from` owns it; a sandbox with
 *   no item is its creator's, so the first hand-over of it succeeds whoever `from` is (the
 *   adapter's `attribute_not_exists(pk) OR owner = :from`).
 */
import type { SandboxOwnership } from '../../../functions/shared/deployments/ports.ts';
import { CallControl, type CallControlOptions } from './call-control.ts';

export type OwnershipMethod = 'ownerOf' | 'recordOwner' | 'handOver';

export interface OwnershipItem {
  owner: string;
  /** The deployment that created the sandbox; absent on an item a hand-over wrote first. */
  creator?: string;
  previousOwner?: string;
  expiresAt?: string;
}

export class MemorySandboxOwnership implements SandboxOwnership {
  readonly control: CallControl<OwnershipMethod>;
  readonly #items = new Map<string, OwnershipItem>();

  constructor(options: CallControlOptions = {}) {
    this.control = new CallControl('ownership', options);
  }

  /** The item of a sandbox as stored now, for assertions and watchers (not a call of the port). */
  itemOf(sandboxId: string): OwnershipItem | undefined {
    const item = this.#items.get(sandboxId);
    return item && { ...item };
  }

  ownerOf(sandboxId: string): Promise<string | undefined> {
    return this.control.call('ownerOf', [sandboxId], () => this.#items.get(sandboxId)?.owner);
  }

  recordOwner(sandboxId: string, deploymentId: string, expiresAt: string): Promise<void> {
    return this.control.call('recordOwner', [sandboxId, deploymentId, expiresAt], () => {
      const item = this.#items.get(sandboxId);
      // Owned already (a redeploy took it over): the creator does not take it back.
      if (item && item.owner !== deploymentId) return;
      this.#items.set(sandboxId, { owner: deploymentId, creator: deploymentId, expiresAt });
    });
  }

  handOver(sandboxId: string, from: string, to: string): Promise<boolean> {
    return this.control.call('handOver', [sandboxId, from, to], () => {
      const item = this.#items.get(sandboxId);
      if (item && item.owner !== from) return false;
      this.#items.set(sandboxId, { ...item, owner: to, previousOwner: from });
      return true;
    });
  }
}
