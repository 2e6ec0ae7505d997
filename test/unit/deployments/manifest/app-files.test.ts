/** A redeploy's sync against the sandbox's record of its files: write what changed, remove what is gone. */
import { describe, expect, it } from 'vitest';
import { parseAppFiles, serializeAppFiles, syncFiles } from '../../../../functions/shared/deployments/manifest/app-files.ts';

const file = (path: string, sha: string, mode = 0o644) => ({ path, sha256: sha.repeat(64), mode, size: 1 });

describe('syncFiles', () => {
  it('writes every file when the sandbox has no record', () => {
    // Prepare
    const manifest = [file('a', 'a'), file('b', 'b')];

    // Act
    const sync = syncFiles(manifest, undefined);

    // Assert
    expect(sync).toEqual({ write: manifest, remove: [], unchanged: 0 });
  });

  it('writes only new and changed files, and removes the files no longer listed', () => {
    // Prepare
    const record = parseAppFiles(serializeAppFiles([file('same', 's'), file('changed', 'c'), file('gone/deep', 'g')]))!;
    const manifest = [file('same', 's'), file('changed', 'd'), file('new', 'n')];

    // Act
    const sync = syncFiles(manifest, record);

    // Assert
    expect(sync.write.map((entry) => entry.path)).toEqual(['changed', 'new']);
    expect(sync.remove).toEqual(['gone/deep']);
    expect(sync.unchanged).toBe(1);
  });

  it('writes a file again when only its mode changed', () => {
    // Prepare
    const record = parseAppFiles(serializeAppFiles([file('run.sh', 'r', 0o644)]))!;

    // Act
    const sync = syncFiles([file('run.sh', 'r', 0o755)], record);

    // Assert
    expect(sync.write.map((entry) => entry.mode)).toEqual([0o755]);
  });
});

describe('parseAppFiles', () => {
  it.each([['not json', '{'], ['another shape', '{"files":[]}'], ['another version', '{"version":2,"files":{}}']])('reads %s as no record', (_case, text) => {
    // Prepare: the text comes from the table

    // Act
    const record = parseAppFiles(text);

    // Assert
    expect(record).toBeUndefined();
  });
});
