/**
 * buildLogCollectionScript: one bash script for every source. Checked as text (quoting, bounds)
 * and run with the local bash on a temporary tree (missing sources, odd names, binary junk).
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidLogGlobError, InvalidLogQueryError } from '../../../../functions/shared/deployments/logs/log-errors.ts';
import { buildLogCollectionScript, type LogCollectionScriptOptions } from '../../../../functions/shared/deployments/logs/log-sources.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'coderunner-logs-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

function options(overrides: Partial<LogCollectionScriptOptions> = {}): LogCollectionScriptOptions {
  return { lines: 5, appDir: `${root}/app`, logDir: `${root}/logs`, homeDir: root, ...overrides };
}

function run(script: string): string {
  return execFileSync('bash', ['-c', script], { cwd: root, encoding: 'latin1', stdio: ['ignore', 'pipe', 'pipe'] });
}

async function put(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(join(root, path, '..'), { recursive: true });
  await writeFile(join(root, path), content);
}

describe('the script text', () => {
  it('quotes every path, so a quote in a directory name cannot end the word', () => {
    const script = buildLogCollectionScript(options({ appDir: "/srv/it's app", logDir: '/srv/$(id) logs', appLogGlob: '*.log' }));

    expect(script).toContain(`cr_file 'app' '/srv/$(id) logs/app.out.log' '/srv/$(id) logs/app.out.log'`);
    expect(script).toContain(`'/srv/it'\\''s app'`);
  });

  it('takes the glob only after validation', () => {
    expect(() => buildLogCollectionScript(options({ appLogGlob: "logs/*.log'; touch /tmp/pwned; '" }))).toThrow(InvalidLogGlobError);
  });

  it('puts since into the mtime floor and the journal query', () => {
    const since = new Date('2026-11-25T11:00:10.900Z');

    const script = buildLogCollectionScript(options({ since }));

    expect(script).toContain(`CR_SINCE_FLOOR='${Math.floor(since.getTime() / 1000) - 2}'`);
    expect(script).toContain(`cr_journal '--since=@${Math.floor(since.getTime() / 1000)}'`);
  });

  it('bounds the output', () => {
    const script = buildLogCollectionScript(options({ lines: 1000 }));

    expect(script).toContain("CR_LINES='1000'");
    expect(script).toContain("CR_WINDOW='524288'");
    expect(script).toContain("CR_MAX_FILES='10'");
    expect(script).toMatch(/\| head -c 8388608\nexit 0$/);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %s lines', (lines) => {
    expect(() => buildLogCollectionScript(options({ lines }))).toThrow(InvalidLogQueryError);
  });

  it('refuses a relative directory', () => {
    expect(() => buildLogCollectionScript(options({ appDir: 'app' }))).toThrow(/appDir must be an absolute path/);
  });
});

describe('running the script', () => {
  it('prints no file block, and exits 0, when no source exists', () => {
    const output = run(buildLogCollectionScript(options({ appLogGlob: 'logs/**/*.log' })));

    // Only the journal may answer (this machine's journalctl says `-- No entries --`).
    const headers = output.split('\n').filter((line) => line.startsWith('@@'));
    expect(headers.filter((line) => !line.startsWith('@@coderunner-source journal '))).toEqual([]);
  });

  it('prints one block per existing source with its last lines, marked', async () => {
    await put('logs/install.log', 'i1\ni2\n');
    await put('logs/app.out.log', 'a1\na2\na3\na4\na5\na6\na7\n');
    await put('.npm/_logs/2026-11-25T11_08_39_425Z-debug-0.log', '0 verbose cli node\n');
    await put('.npm/_logs/2026-11-25T11_08_39_425Z-eresolve-report.txt', 'not a debug log\n');

    const output = run(buildLogCollectionScript(options({ includeNpmDebug: true })));

    expect(output).toMatch(new RegExp(`^@@coderunner-source install \\d+\\.\\d{3} ${root}/logs/install.log\n\\|i1\n\\|i2\n`));
    expect(output).toContain(`/logs/app.out.log\n|a3\n|a4\n|a5\n|a6\n|a7\n`);
    expect(output).toContain(`@@coderunner-source npm `);
    expect(output).not.toContain('not a debug log');
  });

  it("leaves npm's debug logs out unless asked for", async () => {
    await put('logs/app.out.log', 'a1\n');
    await put('.npm/_logs/2026-11-25T11_08_39_425Z-debug-0.log', '0 verbose cli node\n');

    const output = run(buildLogCollectionScript(options()));

    expect(output).toContain('/logs/app.out.log');
    expect(output).not.toContain('@@coderunner-source npm ');
  });

  it('reads odd file names without running them, and labels them relative to the app dir', async () => {
    await put(`app/logs/sub dir/odd $(touch pwned) 'q' \`id\`.log`, 'odd\n');
    await put('app/logs/new\nline.log', 'newline\n');
    await put('app/logs/-dash.log', 'dash\n');
    await put('app/logs/node_modules/dep.log', 'pruned\n');

    const output = run(buildLogCollectionScript(options({ appLogGlob: 'logs/**/*.log' })));

    expect(output).toContain(` logs/sub dir/odd $(touch pwned) 'q' \`id\`.log\n|odd\n`);
    expect(output).toContain(` logs/new?line.log\n|newline\n`);
    expect(output).toContain(` logs/-dash.log\n|dash\n`);
    expect(output).not.toContain('pruned');
    expect(run('ls')).not.toContain('pwned');
  });

  it('keeps only the newest files of a multi-file source', async () => {
    for (let index = 0; index < 4; index++) {
      await put(`app/logs/f${index}.log`, `file ${index}\n`);
      await utimes(join(root, `app/logs/f${index}.log`), 1_700_000_000 + index, 1_700_000_000 + index);
    }

    const output = run(buildLogCollectionScript(options({ appLogGlob: 'logs/*.log', maxFilesPerSource: 2 })));

    expect(output.match(/\|file \d/g)).toEqual(['|file 2', '|file 3']);
  });

  it('drops binary junk but tab and ESC, cuts long lines, and skips the partial first line of a big file', async () => {
    await put('logs/app.err.log', Buffer.from('a\x00b\x01c\td\x1b[31me\n'));
    await put('logs/app.out.log', `${'x'.repeat(70_000)}\n${'y'.repeat(5000)}\nlast\n`);

    const output = run(buildLogCollectionScript(options({ maxLineBytes: 12 })));

    expect(output).toContain('|abc\td\x1b[31me\n');
    expect(output).toContain('/logs/app.out.log\n|yyyyyyyyyyyy\n|last\n');
  });

  it('skips files not written since `since`', async () => {
    await put('logs/install.log', 'old\n');
    await utimes(join(root, 'logs/install.log'), 1_700_000_000, 1_700_000_000);
    await put('logs/app.out.log', 'new\n');

    const output = run(buildLogCollectionScript(options({ since: new Date((1_700_000_000 + 60) * 1000) })));

    expect(output).not.toContain('old');
    expect(output).toContain('|new');
  });
});
