import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cachedSynthesis } from '../../../infra/local/synth-cache.ts';

let root: string;
let synthesized: number;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'synth-cache-'));
  await mkdir(join(root, 'infra', 'cdk'), { recursive: true });
  await writeFile(join(root, 'infra', 'cdk', 'stack.ts'), 'export const version = 1;');
  await writeFile(join(root, 'cdk.json'), '{}');
  synthesized = 0;
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function load(salt: unknown = {}) {
  return cachedSynthesis({
    projectRoot: root,
    inputs: ['infra/cdk', 'cdk.json', 'missing-file.json'],
    cacheDir: join(root, '.cache'),
    salt,
    synthesize: async () => ({ template: `synth #${++synthesized}` }),
  });
}

describe('the synthesized stack cache', () => {
  it('synthesizes on first use', async () => {
    const first = await load();

    expect(first).toMatchObject({ hit: false, result: { template: 'synth #1' } });
  });

  it('reuses the result while the inputs are unchanged', async () => {
    await load();

    const second = await load();

    expect(second).toMatchObject({ hit: true, result: { template: 'synth #1' } });
    expect(synthesized).toBe(1);
  });

  it('synthesizes again when an input file changes', async () => {
    await load();
    await writeFile(join(root, 'infra', 'cdk', 'stack.ts'), 'export const version = 2;');

    const again = await load();

    expect(again).toMatchObject({ hit: false, result: { template: 'synth #2' } });
  });

  it('synthesizes again when a file is added to an input directory', async () => {
    await load();
    await writeFile(join(root, 'infra', 'cdk', 'extra.ts'), 'export {};');

    expect((await load()).hit).toBe(false);
  });

  it('synthesizes again for another context', async () => {
    await load({ context: 'a' });

    expect((await load({ context: 'b' })).hit).toBe(false);
  });

  it('keeps only the newest few results', async () => {
    for (let version = 0; version < 6; version++) {
      await writeFile(join(root, 'cdk.json'), JSON.stringify({ version }));
      await load();
    }

    expect((await readdir(join(root, '.cache'))).length).toBeLessThanOrEqual(3);
  });
});
