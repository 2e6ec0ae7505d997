/**
 * collectLogs with a stand-in sandbox whose `run` executes the script with the local bash
 * (no sandbox host): one command, a deadline, parsed and merged output, named errors.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { collectLogs } from '../../../../functions/shared/deployments/logs/collect-logs.ts';
import { InvalidLogQueryError, LogCollectionError } from '../../../../functions/shared/deployments/logs/log-errors.ts';
import type { CommandResult, RunOptions, SandboxHandle } from '../../../../functions/shared/sandbox/sandbox-provider.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'coderunner-collect-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Only `run` is used; it runs the command with the local bash, like the sandbox's daemon. */
function localSandbox(run: (command: string, options?: RunOptions) => Promise<CommandResult> = runLocally) {
  const spy = vi.fn(run);
  return { sandbox: { sandboxId: 'local', run: spy } as unknown as SandboxHandle, run: spy };
}

async function runLocally(command: string): Promise<CommandResult> {
  return { exitCode: 0, stdout: execFileSync('bash', ['-c', command], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }), stderr: '' };
}

async function put(path: string, content: string): Promise<void> {
  await mkdir(join(root, path, '..'), { recursive: true });
  await writeFile(join(root, path), content);
}

function layout() {
  return { appDir: `${root}/app`, logDir: `${root}/logs`, homeDir: root };
}

describe('collectLogs', () => {
  it('runs one command with a 15 s deadline and returns the merged lines', async () => {
    // Prepare
    await put('logs/install.log', '2026-11-25T11:00:00.000Z installing\n');
    await put('logs/app.out.log', '2026-11-25T11:00:02.000Z listening\n');
    await put('logs/app.err.log', '2026-11-25T11:00:01.000Z warning\n');
    await put('app/logs/requests.log', '2026-11-25T11:00:03.000Z GET /\n');
    const { sandbox, run } = localSandbox();

    // Act
    const entries = await collectLogs(sandbox, { ...layout(), appLogGlob: 'logs/*.log' });

    // Assert
    expect(run).toHaveBeenCalledTimes(1);
    expect(run.mock.calls[0]![1]).toEqual({ timeoutMs: 15_000 });
    expect(entries.map((entry) => `${entry.timestamp} ${entry.source} ${entry.line}`)).toEqual([
      '2026-11-25T11:00:00.000Z install installing',
      '2026-11-25T11:00:01.000Z app-error warning',
      '2026-11-25T11:00:02.000Z app listening',
      // Lines of the app's own files are kept as written.
      '2026-11-25T11:00:03.000Z file:logs/requests.log 2026-11-25T11:00:03.000Z GET /',
    ]);
  });

  it('applies lines and since', async () => {
    const stamped = Array.from({ length: 5 }, (_, index) => `2026-11-25T11:00:0${index}.000Z line ${index}`);
    await put('logs/app.out.log', `${stamped.join('\n')}\n`);
    const { sandbox } = localSandbox();

    const entries = await collectLogs(sandbox, { ...layout(), lines: 2, since: new Date('2026-11-25T11:00:01Z') });

    expect(entries.map((entry) => entry.line)).toEqual(['line 3', 'line 4']);
  });

  it('refuses out-of-range lines before running anything', async () => {
    const { sandbox, run } = localSandbox();

    await expect(collectLogs(sandbox, { lines: 1001 })).rejects.toThrow(InvalidLogQueryError);
    await expect(collectLogs(sandbox, { lines: 0 })).rejects.toThrow('lines must be an integer from 1 to 1000, got 0');
    expect(run).not.toHaveBeenCalled();
  });

  it('reports a broken script as LogCollectionError with its stderr', async () => {
    const { sandbox } = localSandbox(async () => ({ exitCode: 2, stdout: '', stderr: 'bash: syntax error\n' }));

    await expect(collectLogs(sandbox)).rejects.toThrow(new LogCollectionError('the log collection script exited with code 2: bash: syntax error'));
  });

  it('lets sandbox errors through', async () => {
    const gone = new Error('sandbox gone');
    const { sandbox } = localSandbox(async () => {
      throw gone;
    });

    await expect(collectLogs(sandbox)).rejects.toBe(gone);
  });
});
