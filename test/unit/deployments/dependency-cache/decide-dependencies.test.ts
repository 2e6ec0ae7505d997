/** The decision before the install: keep, restore, or install (and save). */
import { describe, expect, it } from 'vitest';
import { decideDependencies } from '../../../../functions/shared/deployments/dependency-cache/decide-dependencies.ts';

const KEY = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);

describe('decideDependencies', () => {
  it('keeps what a redeploy finds when the previous deployment installed under the same key and node_modules still carries it', () => {
    expect(decideDependencies({ key: KEY, previousKey: KEY, installedKey: KEY, entry: { bytes: 10 } })).toEqual({ action: 'keep', key: KEY });
  });

  it('does not keep node_modules whose mark names the key when the previous record does not (nor the other way round)', () => {
    expect(decideDependencies({ key: KEY, previousKey: OTHER, installedKey: KEY })).toEqual({ action: 'install-and-save', key: KEY });
    expect(decideDependencies({ key: KEY, previousKey: KEY })).toEqual({ action: 'install-and-save', key: KEY });
  });

  it('restores the owner\'s archive when there is one for the key (a changed lockfile of a redeploy included)', () => {
    expect(decideDependencies({ key: KEY, previousKey: OTHER, installedKey: OTHER, entry: { bytes: 10 } })).toEqual({ action: 'restore', key: KEY, entry: { bytes: 10 } });
  });

  it('installs and saves when the key has no archive yet', () => {
    expect(decideDependencies({ key: KEY })).toEqual({ action: 'install-and-save', key: KEY });
  });

  it('installs, with the reason, when the install cannot be cached', () => {
    expect(decideDependencies({ offReason: 'no lockfile (package-lock.json) pins the dependencies', previousKey: KEY, installedKey: KEY })).toEqual({
      action: 'install',
      reason: 'no lockfile (package-lock.json) pins the dependencies',
    });
  });
});
