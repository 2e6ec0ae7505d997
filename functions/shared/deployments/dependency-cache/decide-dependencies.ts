/**
 * How the dependencies get into the sandbox, decided from what is known before anything runs:
 * - a redeploy into a live sandbox whose previous deployment installed under the same key, and
 *   whose node_modules still carries that key: keep them, nothing to install;
 * - the owner's cache has an archive for the key: restore it (an install follows if it fails);
 * - otherwise install, and save an archive afterwards;
 * - an install that cannot be cached: install, as without a cache.
 */
import type { DependencyCacheEntry } from '../ports.ts';

export type DependencyDecision =
  | { action: 'keep'; key: string }
  | { action: 'restore'; key: string; entry: DependencyCacheEntry }
  | { action: 'install-and-save'; key: string }
  | { action: 'install'; reason: string };

export interface DecisionInput {
  /** This install's key; undefined when it cannot be cached (`offReason` says why). */
  key?: string;
  offReason?: string;
  /** The key the previous deployment of a redeploy installed under (from its record). */
  previousKey?: string;
  /** The key written into the sandbox's node_modules by the install that made it. */
  installedKey?: string;
  /** The owner's cache entry for the key, if any. */
  entry?: DependencyCacheEntry;
}

export function decideDependencies(input: DecisionInput): DependencyDecision {
  const { key } = input;
  if (!key) return { action: 'install', reason: input.offReason ?? 'the install is not cached' };
  // Both must agree: the record says what was installed, the sandbox that it is still there.
  if (input.previousKey === key && input.installedKey === key) return { action: 'keep', key };
  if (input.entry) return { action: 'restore', key, entry: input.entry };
  return { action: 'install-and-save', key };
}
