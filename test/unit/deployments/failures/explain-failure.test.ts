import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { causeLines } from '../../../../functions/shared/deployments/failures/cause-lines.ts';
import { explainFailure, failureMessage } from '../../../../functions/shared/deployments/failures/explain-failure.ts';
import { failureHint } from '../../../../functions/shared/deployments/failures/failure-hints.ts';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('cause lines', () => {
  it('keeps the line that names a missing module although ten stack lines follow it', () => {
    const lines = causeLines(fixture('missing-module.txt'));

    expect(lines).toContain("Error: Cannot find module 'express'");
    expect(lines.at(-1)).toBe('Node.js v20.20.2');
  });

  it("keeps npm ci's reason, not only its usage text at the end", () => {
    const lines = causeLines(fixture('npm-ci-no-lockfile.txt'));

    expect(lines.join('\n')).toContain('can only install with an existing package-lock.json');
  });

  it('leaves out stack frames and the debug-log notice', () => {
    const lines = causeLines(fixture('missing-module.txt'), { lastLines: 2 });

    expect(lines.join('\n')).not.toMatch(/at Module\._load|complete log/);
  });

  it("keeps where an app's own code threw: Node's file:line header, the source line, its caret and the app's frames", () => {
    // Act
    const lines = causeLines(fixture('app-crash.txt'));

    // Assert
    expect(lines).toEqual(
      expect.arrayContaining([
        '/home/user/app/app.js:4',
        '  if (!url) throw new Error("DATABASE_URL is not set");',
        '            ^',
        'Error: DATABASE_URL is not set',
        '    at loadConfig (/home/user/app/app.js:4:19)',
        '    at Object.<anonymous> (/home/user/app/app.js:7:1)',
      ]),
    );
  });

  it("shows none of Node's internal frames, even at the end of the output", () => {
    // Act
    const lines = causeLines(fixture('app-crash.txt'));

    // Assert
    expect(lines.join('\n')).not.toMatch(/node:internal/);
    expect(lines.at(-1)).toBe('Node.js v20.20.2');
  });

  it("keeps a Python traceback's entries in the app's files", () => {
    // Act
    const lines = causeLines(fixture('python-traceback.txt'), { lastLines: 1 });

    // Assert
    expect(lines).toContain('  File "/home/user/app/app.py", line 9, in main');
  });

  it('marks the gaps between kept lines', () => {
    const lines = causeLines(fixture('missing-module.txt'), { lastLines: 2 });

    expect(lines[0]).toBe('…');
  });

  it('stays within its character bound on huge output', () => {
    const huge = Array.from({ length: 5_000 }, (_, index) => `Error: line ${index} ${'x'.repeat(300)}`).join('\n');

    const lines = causeLines(huge, { maxChars: 2_000 });

    expect(lines.join('\n').length).toBeLessThanOrEqual(2_100);
    expect(lines.at(-1)).toContain('line 4999');
  });

  it('shows a line repeated by a crash loop once', () => {
    const lines = causeLines('Error: boom\nError: boom\nError: boom\n');

    expect(lines).toEqual(['Error: boom']);
  });

  it('drops colour codes', () => {
    expect(causeLines('\u001b[31mError: red\u001b[0m')).toEqual(['Error: red']);
  });
});

describe('failure hints', () => {
  it('names the missing dependency and says an install ran', () => {
    expect(failureHint({ phase: 'start', output: fixture('missing-module.txt'), installed: true })).toBe(
      'the dependency "express" is not installed: add it to "dependencies" in package.json',
    );
  });

  it('says no install ran when a dependency is missing without one', () => {
    expect(failureHint({ phase: 'start', output: fixture('missing-module.txt'), installed: false })).toContain('no install ran');
  });

  it('names a missing file rather than a dependency for a relative module', () => {
    expect(failureHint({ phase: 'start', output: "Error: Cannot find module '/home/user/app/dist/main.js'" })).toBe(
      'the file /home/user/app/dist/main.js does not exist in the app: check the start command and the build output',
    );
  });

  it('explains npm ci without a lockfile', () => {
    expect(failureHint({ phase: 'install', output: fixture('npm-ci-no-lockfile.txt') })).toContain('npm ci needs a package-lock.json');
  });

  it('names the port already in use', () => {
    expect(failureHint({ phase: 'start', output: fixture('eaddrinuse.txt') })).toBe(
      'port 4555 is already in use in the sandbox: another process listens there (a previous app that daemonized?)',
    );
  });

  it('names a command that does not exist', () => {
    expect(failureHint({ phase: 'start', output: fixture('command-not-found.txt') })).toBe(
      'the command "serve-it-now" does not exist in the sandbox: add the package that provides it to package.json, or fix the command',
    );
  });

  it('reads bash\'s "command not found" too', () => {
    expect(failureHint({ phase: 'start', output: 'bash: line 1: vite: command not found' })).toContain('"vite" does not exist');
  });

  it('explains pip refusing a system-wide install', () => {
    expect(failureHint({ phase: 'install', output: fixture('pip-externally-managed.txt') })).toContain('PEP 668');
  });

  it('names a missing Python module', () => {
    expect(failureHint({ phase: 'start', output: fixture('python-traceback.txt') })).toBe(
      'the Python module "flask" is not installed: add it to requirements.txt',
    );
  });

  it('names a dependency version that does not exist', () => {
    const output = 'npm error code ETARGET\nnpm error notarget No matching version found for left-pad@99.0.0.\n';

    expect(failureHint({ phase: 'install', output })).toBe(
      'a dependency version does not exist on the npm registry (left-pad@99.0.0): fix the version in package.json',
    );
  });

  it('puts the memory limit first when the kernel killed the process', () => {
    expect(failureHint({ phase: 'health', output: 'Killed', outOfMemory: { limitBytes: 1024 ** 3 } })).toBe(
      "out of memory: the sandbox's limit is 1 GiB and the kernel killed the process that went past it",
    );
  });

  it('explains a build that cannot download its Google fonts', () => {
    const output = 'Error: next/font: error:\nFailed to fetch Geist from Google Fonts.\n';

    expect(failureHint({ phase: 'build', output })).toContain('next/font/local');
  });

  it('has no hint for an unknown cause', () => {
    expect(failureHint({ phase: 'start', output: 'something odd happened' })).toBeUndefined();
  });
});

describe('the recorded message', () => {
  it('is the summary, the hint and the cause lines', () => {
    const explained = explainFailure('the app exited before it became healthy (exit code 1)', {
      phase: 'health',
      output: fixture('missing-module.txt'),
      installed: true,
    });

    expect(failureMessage(explained)).toMatch(
      /^the app exited before it became healthy \(exit code 1\)\nhint: the dependency "express" is not installed.*\noutput:\n(  .*\n)*  Error: Cannot find module 'express'/,
    );
  });
});
