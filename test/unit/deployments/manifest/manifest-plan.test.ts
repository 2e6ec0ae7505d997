/** The build plan of a manifest: the plan reads what it needs, fetched on demand, and no more. */
import { describe, expect, it } from 'vitest';
import { planManifest, type PlannedEntry } from '../../../../functions/shared/deployments/manifest/manifest-plan.ts';

const encoder = new TextEncoder();

function project(files: Record<string, string>) {
  const entries: PlannedEntry[] = Object.entries(files).map(([path, text]) => ({ path, size: encoder.encode(text).length, sha256: path }));
  const served: string[] = [];
  const source = async (entry: PlannedEntry) => {
    served.push(entry.path);
    const text = files[entry.path];
    return text === undefined ? undefined : encoder.encode(text);
  };
  return { entries, source, served };
}

describe('planManifest', () => {
  it('makes the plan it would make with every content, reading only the files the plan asks for', async () => {
    // Prepare
    const files = project({
      'package.json': JSON.stringify({ scripts: { start: 'node server.js' } }),
      'server.js': "require('http').createServer().listen(8080)",
      'public/big-data.json': '{}',
      'README.md': '# hello',
    });

    // Act
    const { plan, read } = await planManifest(files.entries, {}, files.source);

    // Assert
    expect(plan.start.command).toBe('npm start');
    expect(read).toContain('package.json');
    expect(files.served).not.toContain('public/big-data.json');
  });

  it('names the entries whose content it needs and cannot get', async () => {
    // Prepare
    const files = project({ 'package.json': JSON.stringify({ scripts: { start: 'node index.js' } }) });
    const nothing = async () => undefined;

    // Act
    const planning = planManifest(files.entries, {}, nothing);

    // Assert
    await expect(planning).rejects.toMatchObject({ name: 'ManifestContentNeededError', problems: [expect.objectContaining({ field: 'manifest[0].content' })] });
  });
});
