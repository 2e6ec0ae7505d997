/**
 * The capture wrappers, run with the local bash: every line gets a UTC millisecond timestamp,
 * the command's exit status and pid are its own, stdout and stderr stay apart when asked.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  splitCapturedTimestamp,
  timestampedBackgroundCommand,
  timestampedCommand,
  timestampFilterCommand,
} from '../../../../functions/shared/deployments/logs/timestamp-lines.ts';

const STAMPED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z /;

/**
 * Runs with bash; spawnSync also waits for the filters, which hold the output pipes to the end.
 * stdin is not a socket: bash would take itself for an ssh session and read ~/.bashrc.
 */
function bash(command: string, env: Record<string, string> = {}) {
  const result = spawnSync('/bin/bash', ['-c', command], { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return { ...result, stdoutLines: lines(result.stdout), stderrLines: lines(result.stderr) };
}

function lines(text: string): string[] {
  return text.split('\n').slice(0, -1);
}

function unstamped(stamped: string[]): string[] {
  return stamped.map((line) => {
    expect(line).toMatch(STAMPED);
    return splitCapturedTimestamp(line)!.text;
  });
}

describe('timestampedCommand', () => {
  it('stamps stdout and stderr, merged in the order written, and keeps the exit status', () => {
    const result = bash(timestampedCommand(`echo "it's out"; echo err >&2; printf 'no newline'; exit 3 # comment`));

    expect(result.status).toBe(3);
    expect(unstamped(result.stdoutLines)).toEqual(["it's out", 'err', 'no newline']);
    expect(result.stderr).toBe('');
  });

  it('exits 0 for a command that succeeds, and stamps nothing for no output', () => {
    const result = bash(timestampedCommand('true'));

    expect(result.status).toBe(0);
    expect(result.stdout).toBe('');
  });

  it('stamps with the current UTC time, whatever the time zone', () => {
    const before = Date.now();

    const result = bash(timestampedCommand('echo now'), { TZ: 'Asia/Tokyo' });

    const stamped = Date.parse(splitCapturedTimestamp(result.stdoutLines[0]!)!.timestamp);
    expect(stamped).toBeGreaterThanOrEqual(before - 1);
    expect(stamped).toBeLessThanOrEqual(Date.now() + 1);
  });
});

describe('timestampedBackgroundCommand', () => {
  it('stamps stdout and stderr separately, each on its own stream', () => {
    const result = bash(timestampedBackgroundCommand('echo out1; echo err1 >&2; echo out2'));

    expect(unstamped(result.stdoutLines)).toEqual(['out1', 'out2']);
    expect(unstamped(result.stderrLines)).toEqual(['err1']);
  });

  it('execs the command: it runs with the pid the shell was started with', () => {
    const result = bash(timestampedBackgroundCommand(`bash -c 'echo $$'`));

    expect(unstamped(result.stdoutLines)).toEqual([String(result.pid)]);
  });
});

describe('timestampFilterCommand', () => {
  it('falls back to a bash loop, same format, where perl is missing', () => {
    const result = bash(`printf 'a\\0b\\nlast' | ${timestampFilterCommand()}`, { PATH: '/nonexistent' });

    expect(unstamped(result.stdoutLines)).toEqual(['ab', 'last']);
    expect(result.stderr).toBe('');
  });
});

describe('splitCapturedTimestamp', () => {
  it('splits our prefix off, and only ours', () => {
    expect(splitCapturedTimestamp('2026-11-25T11:08:39.425Z  indented')).toEqual({ timestamp: '2026-11-25T11:08:39.425Z', text: ' indented' });
    expect(splitCapturedTimestamp('2026-11-25T11:08:39Z no milliseconds')).toBeUndefined();
    expect(splitCapturedTimestamp('2026-11-25T11:08:39.425Z')).toBeUndefined();
  });
});

describe('the install wrapper', () => {
  it('runs the command quoted in its own bash, so its text cannot change the wrapper', async () => {
    // Prepare: a command that would close the wrapper's group and exit it early if pasted in
    const { execFileSync } = await import('node:child_process');
    const { timestampedCommand: wrap } = await import('../../../../functions/shared/deployments/logs/timestamp-lines.ts');
    const command = "echo one; } ; echo 'two'; exit 7";

    // Act
    const run = (() => {
      try {
        return { code: 0, out: execFileSync('bash', ['-c', wrap(command)], { encoding: 'utf8' }) };
      } catch (error) {
        return { code: (error as { status: number }).status, out: String((error as { stdout: string }).stdout) };
      }
    })();

    // Assert: bash -c refuses the stray brace (syntax error, 2); nothing of the command ran
    expect(run.code).toBe(2);
    expect(run.out).not.toMatch(/Z one$/m);
    expect(run.out).not.toMatch(/Z two$/m);
  });
});
