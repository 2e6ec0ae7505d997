/**
 * parseLogOutput: the collection script's blocks become entries with a source and an ISO
 * timestamp, merged in time order, filtered by `since` and cut to the newest `lines`.
 */
import { describe, expect, it } from 'vitest';
import { parseLogOutput } from '../../../../functions/shared/deployments/logs/parse-log-output.ts';

const MTIME = '1795603565.061';
const MTIME_ISO = new Date(1795603565061).toISOString();

/** One block as the script prints it. */
function block(kind: string, label: string, lines: string[], mtime = MTIME): string {
  return [`@@coderunner-source ${kind} ${mtime} ${label}`, ...lines.map((line) => `|${line}`)].join('\n');
}

function output(...blocks: string[]): string {
  return `${blocks.join('\n')}\n`;
}

const ALL = { lines: 1000 };

describe('timestamps of each format', () => {
  it('takes our capture prefix as the time and strips it from the line', () => {
    const text = output(block('app', '/home/user/.coderunner/logs/app.out.log', ['2026-11-25T11:00:02.123Z listening on 3000']));

    expect(parseLogOutput(text, ALL)).toEqual([
      { timestamp: '2026-11-25T11:00:02.123Z', source: 'app', line: 'listening on 3000', timestampSource: 'line' },
    ]);
  });

  it('reads ISO-8601 with an offset and normalizes it to UTC, keeping the line as written', () => {
    const text = output(block('file', 'logs/app.log', ['[2026-11-25T13:00:00.5+02:00] INFO ready']));

    expect(parseLogOutput(text, ALL)).toEqual([
      { timestamp: '2026-11-25T11:00:00.500Z', source: 'file:logs/app.log', line: '[2026-11-25T13:00:00.5+02:00] INFO ready', timestampSource: 'line' },
    ]);
  });

  it('reads journal short-iso and drops journalctl markers', () => {
    const text = output(
      block('journal', 'journalctl', ['-- No entries --', '2026-11-25T11:00:07+0000 host sshd[42]: started', '-- Boot 1a2b --']),
    );

    expect(parseLogOutput(text, ALL)).toEqual([
      { timestamp: '2026-11-25T11:00:07.000Z', source: 'journal', line: '2026-11-25T11:00:07+0000 host sshd[42]: started', timestampSource: 'line' },
    ]);
  });

  it('reads the PM2 time prefix (no zone: UTC) and a space/comma variant', () => {
    const text = output(block('pm2', '/home/user/.pm2/logs/api-out.log', ['2026-11-25T11:08:39: GET / 200', '2026-11-25 11:08:40,250 INFO done']));

    expect(parseLogOutput(text, ALL).map((entry) => [entry.timestamp, entry.source, entry.timestampSource])).toEqual([
      ['2026-11-25T11:08:39.000Z', 'pm2', 'line'],
      ['2026-11-25T11:08:40.250Z', 'pm2', 'line'],
    ]);
  });

  it('gives every npm debug log line the start time in the file name', () => {
    const text = output(block('npm', '/home/user/.npm/_logs/2026-11-25T11_08_39_425Z-debug-0.log', ['0 verbose cli /usr/bin/node /usr/bin/npm', '1 info ok']));

    expect(parseLogOutput(text, ALL)).toEqual([
      { timestamp: '2026-11-25T11:08:39.425Z', source: 'npm', line: '0 verbose cli /usr/bin/node /usr/bin/npm', timestampSource: 'file-name' },
      { timestamp: '2026-11-25T11:08:39.425Z', source: 'npm', line: '1 info ok', timestampSource: 'file-name' },
    ]);
  });

  it('falls back to the file mtime for a file whose lines carry no time', () => {
    const text = output(block('file', 'logs/plain.log', ['just text', '12:00 not a date']));

    expect(parseLogOutput(text, ALL)).toEqual([
      { timestamp: MTIME_ISO, source: 'file:logs/plain.log', line: 'just text', timestampSource: 'file-mtime' },
      { timestamp: MTIME_ISO, source: 'file:logs/plain.log', line: '12:00 not a date', timestampSource: 'file-mtime' },
    ]);
  });

  it('gives continuation lines the time of the nearest timestamped line of the same file', () => {
    const text = output(
      block('app-error', '/home/user/.coderunner/logs/app.err.log', [
        '    at cut off by the tail window',
        '2026-11-25T11:00:01.000Z Error: boom',
        '    at main (server.js:3:9)',
      ]),
    );

    expect(parseLogOutput(text, ALL).map((entry) => [entry.timestamp, entry.line, entry.timestampSource])).toEqual([
      ['2026-11-25T11:00:01.000Z', '    at cut off by the tail window', 'nearby-line'],
      ['2026-11-25T11:00:01.000Z', 'Error: boom', 'line'],
      ['2026-11-25T11:00:01.000Z', '    at main (server.js:3:9)', 'nearby-line'],
    ]);
  });

  it('does not take an impossible date for a time', () => {
    const text = output(block('file', 'logs/a.log', ['2026-13-40T25:00:00Z nonsense']));

    expect(parseLogOutput(text, ALL)[0]).toMatchObject({ timestamp: MTIME_ISO, timestampSource: 'file-mtime' });
  });
});

describe('merging', () => {
  it('orders lines of all sources by time', () => {
    const text = output(
      block('install', '/l/install.log', ['2026-11-25T11:00:00.000Z npm install', '2026-11-25T11:00:03.000Z added 1 package']),
      block('app', '/l/app.out.log', ['2026-11-25T11:00:04.000Z started']),
      block('app-error', '/l/app.err.log', ['2026-11-25T11:00:01.000Z early warning']),
    );

    expect(parseLogOutput(text, ALL).map((entry) => `${entry.source}: ${entry.line}`)).toEqual([
      'install: npm install',
      'app-error: early warning',
      'install: added 1 package',
      'app: started',
    ]);
  });

  it('reads the build log like the install log: the capture time is the line\'s, not part of its text', () => {
    const text = output(block('build', '/l/build.log', ['2026-11-25T11:00:05.000Z > next build']));

    expect(parseLogOutput(text, ALL)).toEqual([
      { timestamp: '2026-11-25T11:00:05.000Z', source: 'build', line: '> next build', timestampSource: 'line' },
    ]);
  });

  it('keeps script order, then file order, for equal times', () => {
    const at = '2026-11-25T11:00:00.000Z';
    const text = output(
      block('install', '/l/install.log', [`${at} i1`, `${at} i2`]),
      block('app', '/l/app.out.log', [`${at} a1`]),
      block('app-error', '/l/app.err.log', [`${at} e1`]),
    );

    expect(parseLogOutput(text, ALL).map((entry) => entry.line)).toEqual(['i1', 'i2', 'a1', 'e1']);
  });
});

describe('since and lines', () => {
  const text = output(
    block('install', '/l/install.log', ['2026-11-25T11:00:00.000Z one', '2026-11-25T11:00:01.000Z two']),
    block('app', '/l/app.out.log', ['2026-11-25T11:00:02.000Z three', '2026-11-25T11:00:03.000Z four']),
  );

  it('keeps lines at or after since', () => {
    const entries = parseLogOutput(text, { lines: 100, since: new Date('2026-11-25T11:00:01.000Z') });

    expect(entries.map((entry) => entry.line)).toEqual(['two', 'three', 'four']);
  });

  it('keeps the newest lines across sources', () => {
    expect(parseLogOutput(text, { lines: 3 }).map((entry) => entry.line)).toEqual(['two', 'three', 'four']);
  });

  it('applies since before the limit', () => {
    const entries = parseLogOutput(text, { lines: 1, since: new Date('2026-11-25T11:00:00.500Z') });

    expect(entries.map((entry) => entry.line)).toEqual(['four']);
  });
});

describe('robustness', () => {
  it('returns nothing for no sources, or sources without lines', () => {
    expect(parseLogOutput('', ALL)).toEqual([]);
    expect(parseLogOutput(output(block('journal', 'journalctl', [])), ALL)).toEqual([]);
  });

  it('names file sources by the whole relative path, spaces, quotes and $ included', () => {
    const label = `logs/sub dir/odd $(touch pwned) 'q'.log`;

    const [entry] = parseLogOutput(output(block('file', label, ['x'])), ALL);

    expect(entry!.source).toBe(`file:${label}`);
  });

  it('keeps a forged header inside a file as an ordinary line', () => {
    const text = output(block('app', '/l/app.out.log', ['@@coderunner-source install 0 /fake', '|fake']));

    expect(parseLogOutput(text, ALL).map((entry) => [entry.source, entry.line])).toEqual([
      ['app', '@@coderunner-source install 0 /fake'],
      ['app', '|fake'],
    ]);
  });

  it('ignores unknown or malformed headers with their lines, and unmarked lines', () => {
    const text = output(
      'stray line before any header',
      block('secrets', '/etc/shadow', ['nope']),
      block('app', '/l/app.out.log', ['nope'], 'not-a-number'),
      '@@coderunner-source app',
      block('install', '/l/install.log', ['2026-11-25T11:00:00.000Z kept']),
      'unmarked',
    );

    expect(parseLogOutput(text, ALL).map((entry) => entry.line)).toEqual(['kept']);
  });

  it('shows what a terminal would: no colour codes, the last state of a CR progress line, no CRLF', () => {
    const text = output(block('install', '/l/install.log', ['2026-11-25T11:00:00.000Z \x1b[32mok\x1b[0m', 'progress 10%\rprogress 100%\r', 'windows\r']));

    expect(parseLogOutput(text, ALL).map((entry) => entry.line)).toEqual(['ok', 'progress 100%', 'windows']);
  });

  it('tolerates output cut in the middle of a line', () => {
    const text = `${block('app', '/l/app.out.log', ['2026-11-25T11:00:00.000Z whole', '2026-11-25T11:00:01.000Z cut in the mi'])}`;

    expect(parseLogOutput(text, ALL).map((entry) => entry.line)).toEqual(['whole', 'cut in the mi']);
  });
});
