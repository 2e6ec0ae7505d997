/**
 * Every call the fakes receive, in the order they received them, across all ports: tests assert
 * the order of effects (logs saved before the kill, the kill before the terminal record) on it.
 */
export interface JournalEntry {
  seq: number;
  /** `<port>.<method>`, e.g. `sandboxes.kill` or `deployments.transition`. */
  name: string;
  args: readonly unknown[];
  /** Set when the call returned (`ok`) or threw (`error`); absent while it runs or if it never ends. */
  outcome?: 'ok' | 'error';
}

export class CallJournal {
  readonly entries: JournalEntry[] = [];

  /** Forgets what the preparation of a test called, so the assertions see only the act. */
  clear(): void {
    this.entries.length = 0;
  }

  record(name: string, args: readonly unknown[]): JournalEntry {
    const entry: JournalEntry = { seq: this.entries.length, name, args: [...args] };
    this.entries.push(entry);
    return entry;
  }

  /** The calls named `name` (all calls without a name), optionally those whose arguments match. */
  calls(name?: string, matches: (args: readonly unknown[]) => boolean = () => true): JournalEntry[] {
    return this.entries.filter((entry) => (name === undefined || entry.name === name) && matches(entry.args));
  }

  names(): string[] {
    return this.entries.map((entry) => entry.name);
  }

  /** Position of the first matching call; -1 when there is none. */
  indexOf(name: string, matches: (args: readonly unknown[]) => boolean = () => true): number {
    return this.entries.findIndex((entry) => entry.name === name && matches(entry.args));
  }

  lastIndexOf(name: string, matches: (args: readonly unknown[]) => boolean = () => true): number {
    return this.entries.findLastIndex((entry) => entry.name === name && matches(entry.args));
  }
}
