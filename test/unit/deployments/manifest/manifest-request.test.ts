/** The manifest body of POST /deployments: each broken rule names its field. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeIssues } from '../../../../functions/shared/deployments/deployment-request.ts';
import { manifestRequestSchema } from '../../../../functions/shared/deployments/manifest/manifest-request.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const entry = (path: string, text = path) => ({ path, size: Buffer.byteLength(text), sha256: sha256(text) });

function fieldsOf(body: unknown, limits?: Parameters<typeof manifestRequestSchema>[0]): string[] {
  const parsed = manifestRequestSchema(limits).safeParse(body);
  return parsed.success ? [] : describeIssues(parsed.error.issues).map((problem) => problem.field);
}

describe('manifestRequestSchema', () => {
  it('accepts files by path, size and hash, with a default mode', () => {
    // Prepare
    const body = { projectId: 'p', manifest: [entry('index.html'), { ...entry('run.sh'), mode: 0o755 }] };

    // Act
    const parsed = manifestRequestSchema().parse(body);

    // Assert
    expect(parsed.manifest.map((file) => file.mode)).toEqual([0o644, 0o755]);
  });

  it.each([
    ['a malformed hash', { path: 'a', size: 1, sha256: 'ABC' }, 'manifest[0].sha256'],
    ['a path with ..', entry('../a'), 'manifest[0].path'],
    ['an absolute path', entry('/etc/passwd'), 'manifest[0].path'],
    ['a negative size', { ...entry('a'), size: -1 }, 'manifest[0].size'],
    ['a mode beyond 0o777', { ...entry('a'), mode: 0o4755 }, 'manifest[0].mode'],
    ['inline content that does not match its hash', { ...entry('a', 'xyz'), content: 'xyw' }, 'manifest[0].sha256'],
    ['inline content of another size', { ...entry('a', 'xyz'), content: 'xy' }, 'manifest[0].size'],
  ])('refuses %s, naming the field', (_case, file, field) => {
    // Prepare
    const body = { projectId: 'p', manifest: [file] };

    // Act
    const fields = fieldsOf(body);

    // Assert
    expect(fields).toContain(field);
  });

  it('refuses a duplicate path', () => {
    // Prepare
    const body = { projectId: 'p', manifest: [entry('a'), entry('a')] };

    // Act
    const fields = fieldsOf(body);

    // Assert
    expect(fields).toEqual(['manifest[1].path']);
  });

  it.each([
    ['more files than allowed', [{ ...entry('a'), size: 1 }, { ...entry('b'), size: 1 }, { ...entry('c'), size: 1 }], ['manifest']],
    ['a file past the size per file', [{ ...entry('a'), size: 11 }], ['manifest[0].size']],
    ['more bytes in all than allowed', [{ ...entry('a'), size: 9 }, { ...entry('b'), size: 9 }], ['manifest']],
  ])('refuses %s', (_case, manifest, expected) => {
    // Prepare
    const limits = { maxFiles: 2, maxFileBytes: 10, maxTotalBytes: 15, maxInlineBytes: 100, maxInlineFileBytes: 100 };

    // Act
    const fields = fieldsOf({ projectId: 'p', manifest }, limits);

    // Assert
    expect(fields).toEqual(expected);
  });
});
