/**
 * Per-user quotas in memory, as the DynamoDB adapter keeps them (the contract test runs the same
 * suite against both):
 * - a counted quota is up to `limit` slots; taking one takes a free slot below the limit (here
 *   the lowest; the adapter starts at a random one) or one the holder already holds, stamped
 *   with the clock; giving it back only works for its holder and is idempotent; a transfer moves
 *   it only from its holder, stamped again;
 * - held slots are listed in the adapter's key order (by quota name, then slot number);
 * - starts are one counter per user and minute, added to while below the limit; like the
 *   adapter's `attribute_not_exists(count) OR count < limit`, a minute's first start counts
 *   whatever the limit, even 0;
 * - a user's own limits are what an operator wrote (`setLimits`), numbers only.
 */
import type { HeldSlot, QuotaStore } from '../../../functions/shared/deployments/ports.ts';
import type { QuotaLimits, SlotQuota } from '../../../functions/shared/deployments/quotas/quota-limits.ts';
import { CallControl, type CallControlOptions } from './call-control.ts';

export type QuotaStoreMethod = 'limitsOverride' | 'takeSlot' | 'releaseSlot' | 'transferSlot' | 'heldSlots' | 'countStart' | 'startsIn';

export interface MemoryQuotaStoreOptions extends CallControlOptions {
  now?: () => Date;
}

const LIMIT_FIELDS: readonly (keyof QuotaLimits)[] = ['liveSandboxes', 'deploymentsInFlight', 'deploymentsPerMinute', 'maxSandboxLifetimeSeconds'];

export class MemoryQuotaStore implements QuotaStore {
  readonly control: CallControl<QuotaStoreMethod>;
  /** Slot key (`<user>|<quota>|<slot>`) to the slot held there. */
  readonly #slots = new Map<string, HeldSlot & { userId: string }>();
  readonly #starts = new Map<string, number>();
  readonly #limits = new Map<string, Record<string, unknown>>();
  readonly #now: () => Date;

  constructor(options: MemoryQuotaStoreOptions = {}) {
    this.control = new CallControl('quotas', options);
    this.#now = options.now ?? (() => new Date());
  }

  /** What an operator writes as a user's own limits (the adapter's LIMITS item); not a call of the port. */
  setLimits(userId: string, limits: Record<string, unknown>): void {
    this.#limits.set(userId, { ...limits });
  }

  /** Every held slot of a user, for assertions (not a call of the port). */
  held(userId: string, quota?: SlotQuota): HeldSlot[] {
    return this.#heldOf(userId, quota);
  }

  limitsOverride(userId: string): Promise<Partial<QuotaLimits> | undefined> {
    return this.control.call('limitsOverride', [userId], () => {
      const item = this.#limits.get(userId);
      if (!item) return undefined;
      return Object.fromEntries(LIMIT_FIELDS.filter((field) => typeof item[field] === 'number').map((field) => [field, item[field] as number]));
    });
  }

  takeSlot(userId: string, quota: SlotQuota, limit: number, holder: string): Promise<number | undefined> {
    return this.control.call('takeSlot', [userId, quota, limit, holder], () => {
      for (let slot = 0; slot < limit; slot++) {
        const held = this.#slots.get(slotKey(userId, quota, slot));
        if (held && held.holder !== holder) continue;
        this.#slots.set(slotKey(userId, quota, slot), { userId, quota, slot, holder, heldAt: this.#now().toISOString() });
        return slot;
      }
      return undefined;
    });
  }

  releaseSlot(userId: string, quota: SlotQuota, slot: number, holder: string): Promise<void> {
    return this.control.call('releaseSlot', [userId, quota, slot, holder], () => {
      const key = slotKey(userId, quota, slot);
      // Given back already, or held by someone else since: nothing of ours to release.
      if (this.#slots.get(key)?.holder === holder) this.#slots.delete(key);
    });
  }

  transferSlot(userId: string, quota: SlotQuota, slot: number, from: string, to: string): Promise<boolean> {
    return this.control.call('transferSlot', [userId, quota, slot, from, to], () => {
      const key = slotKey(userId, quota, slot);
      const held = this.#slots.get(key);
      if (held?.holder !== from) return false;
      this.#slots.set(key, { ...held, holder: to, heldAt: this.#now().toISOString() });
      return true;
    });
  }

  heldSlots(userId: string, quota?: SlotQuota): Promise<HeldSlot[]> {
    return this.control.call('heldSlots', [userId, quota], () => this.#heldOf(userId, quota));
  }

  countStart(userId: string, minute: string, limit: number): Promise<{ counted: boolean; count: number }> {
    return this.control.call('countStart', [userId, minute, limit], () => {
      const key = `${userId}|${minute}`;
      const count = this.#starts.get(key);
      if (!((count ?? 0) < limit)) return { counted: false, count: count ?? 0 };
      this.#starts.set(key, (count ?? 0) + 1);
      return { counted: true, count: (count ?? 0) + 1 };
    });
  }

  startsIn(userId: string, minute: string): Promise<number> {
    return this.control.call('startsIn', [userId, minute], () => this.#starts.get(`${userId}|${minute}`) ?? 0);
  }

  #heldOf(userId: string, quota: SlotQuota | undefined): HeldSlot[] {
    return [...this.#slots.values()]
      .filter((held) => held.userId === userId && (quota === undefined || held.quota === quota))
      .sort((a, b) => (a.quota === b.quota ? a.slot - b.slot : a.quota < b.quota ? -1 : 1))
      .map(({ quota: name, slot, holder, heldAt }) => ({ quota: name, slot, holder, heldAt }));
  }
}

function slotKey(userId: string, quota: SlotQuota, slot: number): string {
  return `${userId}|${quota}|${slot}`;
}
