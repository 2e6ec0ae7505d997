/**
 * The sweep's bookkeeping in memory, as the DynamoDB adapter keeps it: a claim holds for its
 * time to live in whole seconds of the clock (taken again once its expiry is strictly past), and
 * one cursor per name.
 */
import type { SweepBookkeeping } from '../../../functions/shared/deployments/ports.ts';
import { CallControl, type CallControlOptions } from './call-control.ts';

export type BookkeepingMethod = 'claim' | 'getCursor' | 'putCursor';

export interface MemorySweepBookkeepingOptions extends CallControlOptions {
  now?: () => Date;
}

export class MemorySweepBookkeeping implements SweepBookkeeping {
  readonly control: CallControl<BookkeepingMethod>;
  /** Claim name to its expiry, in epoch seconds. */
  readonly claims = new Map<string, number>();
  readonly cursors = new Map<string, string>();
  readonly #now: () => Date;

  constructor(options: MemorySweepBookkeepingOptions = {}) {
    this.control = new CallControl('bookkeeping', options);
    this.#now = options.now ?? (() => new Date());
  }

  claim(name: string, ttlSeconds: number): Promise<boolean> {
    return this.control.call('claim', [name, ttlSeconds], () => {
      const now = Math.floor(this.#now().getTime() / 1000);
      const expiry = this.claims.get(name);
      if (expiry !== undefined && !(expiry < now)) return false;
      this.claims.set(name, now + ttlSeconds);
      return true;
    });
  }

  getCursor(name: string): Promise<string | undefined> {
    return this.control.call('getCursor', [name], () => this.cursors.get(name));
  }

  putCursor(name: string, cursor: string | undefined): Promise<void> {
    return this.control.call('putCursor', [name, cursor], () => {
      if (cursor) this.cursors.set(name, cursor);
      else this.cursors.delete(name);
    });
  }
}
