/**
 * What a test can do to the calls of one fake port: fail the next N calls of a method with a
 * given error, run a hook just before or after a call (another writer acting in between), or
 * make a call never return (the Lambda that made it died there). Every call goes into the
 * shared journal.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { CallJournal } from './call-journal.ts';

export type CallHook = (args: readonly unknown[], result?: unknown) => void | Promise<void>;

interface Fault {
  remaining: number;
  error: () => Error;
}

interface Hook {
  remaining: number;
  run: CallHook;
}

export interface CallControlOptions {
  journal?: CallJournal;
  /** Let other pending work run before each call (so concurrent callers really interleave). */
  interleave?: boolean;
}

export class CallControl<Method extends string = string> {
  readonly #port: string;
  readonly #journal: CallJournal;
  readonly #interleave: boolean;
  readonly #faults = new Map<Method, Fault[]>();
  readonly #before = new Map<Method, Hook[]>();
  readonly #after = new Map<Method, Hook[]>();

  constructor(port: string, options: CallControlOptions = {}) {
    this.#port = port;
    this.#journal = options.journal ?? new CallJournal();
    this.#interleave = options.interleave ?? false;
  }

  get journal(): CallJournal {
    return this.#journal;
  }

  /** The next `times` calls of `method` throw `error` (a fresh one per call when given a factory). */
  failNext(method: Method, times: number, error: Error | (() => Error)): void {
    const make = typeof error === 'function' ? error : () => error;
    this.#list(this.#faults, method).push({ remaining: times, error: make });
  }

  /** Runs `hook` before the next `times` calls of `method` (default once). */
  before(method: Method, hook: CallHook, times = 1): void {
    this.#list(this.#before, method).push({ remaining: times, run: hook });
  }

  /** Runs `hook` after the next `times` calls of `method` returned, with their result. */
  after(method: Method, hook: CallHook, times = 1): void {
    this.#list(this.#after, method).push({ remaining: times, run: hook });
  }

  /**
   * The next call of `method` never returns: before it takes effect (`before`), or after
   * (`after`: the effect happened, its caller never hears of it). A crashed caller. Resolves
   * once the call has reached that point.
   */
  hangNext(method: Method, when: 'before' | 'after'): Promise<void> {
    return new Promise<void>((reached) => {
      const hang: CallHook = () => {
        reached();
        return new Promise<void>(() => undefined);
      };
      if (when === 'before') this.before(method, hang);
      else this.after(method, hang);
    });
  }

  async call<T>(method: Method, args: readonly unknown[], body: () => T | Promise<T>): Promise<T> {
    const entry = this.#journal.record(`${this.#port}.${method}`, args);
    try {
      if (this.#interleave) await nextTurn();
      await this.#runHooks(this.#before, method, args);
      const fault = this.#take(this.#faults, method);
      if (fault) throw fault.error();
      const result = await body();
      await this.#runHooks(this.#after, method, args, result);
      entry.outcome = 'ok';
      return result;
    } catch (error) {
      entry.outcome = 'error';
      throw error;
    }
  }

  async #runHooks(hooks: Map<Method, Hook[]>, method: Method, args: readonly unknown[], result?: unknown): Promise<void> {
    const hook = this.#take(hooks, method);
    if (hook) await hook.run(args, result);
  }

  #take<Item extends { remaining: number }>(items: Map<Method, Item[]>, method: Method): Item | undefined {
    const list = items.get(method);
    const item = list?.[0];
    if (!list || !item) return undefined;
    item.remaining -= 1;
    if (item.remaining <= 0) list.shift();
    return item;
  }

  #list<Item>(items: Map<Method, Item[]>, method: Method): Item[] {
    let list = items.get(method);
    if (!list) items.set(method, (list = []));
    return list;
  }
}
