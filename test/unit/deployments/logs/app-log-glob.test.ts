/**
 * The app log glob goes into a shell script: only a strict pattern passes, and what passes
 * becomes a bounded `find` search.
 */
import { describe, expect, it } from 'vitest';
import { appLogGlobSearch, validateAppLogGlob } from '../../../../functions/shared/deployments/logs/app-log-glob.ts';
import { InvalidLogGlobError } from '../../../../functions/shared/deployments/logs/log-errors.ts';

describe('validateAppLogGlob', () => {
  it.each(['logs/**/*.log', '*.log', 'logs/app-?.log', 'var/log/app.log', 'logs/**', 'a_b/C-1/x.*.log'])('accepts %j', (glob) => {
    expect(() => validateAppLogGlob(glob)).not.toThrow();
  });

  it.each([
    ['command substitution', 'logs/$(rm -rf ~)/*.log'],
    ['backticks', 'logs/`id`.log'],
    ['a second command', 'logs/*.log; rm -rf /'],
    ['a pipe', 'logs/*.log|sh'],
    ['a single quote', "logs/'*.log"],
    ['a double quote', 'logs/"*.log'],
    ['a space', 'logs/my app.log'],
    ['a newline', 'logs/*.log\nrm -rf /'],
    ['a variable', 'logs/$HOME.log'],
    ['braces', 'logs/{a,b}.log'],
    ['brackets', 'logs/[ab].log'],
    ['a backslash', 'logs\\*.log'],
    ['a parent directory', '../../etc/*.conf'],
    ['a dot segment', 'logs/./*.log'],
    ['an absolute path', '/etc/*.conf'],
    ['a home path', '~/secrets/*.log'],
    ['an empty segment', 'logs//*.log'],
    ['** inside a segment', 'logs/a**b/*.log'],
    ['nothing', ''],
    ['too long', `${'a/'.repeat(150)}x.log`],
  ])('refuses %s', (_, glob) => {
    expect(() => validateAppLogGlob(glob)).toThrow(InvalidLogGlobError);
  });

  it('says what is allowed', () => {
    expect(() => validateAppLogGlob('logs/$(id)')).toThrow(/may only use letters, digits/);
  });
});

describe('appLogGlobSearch', () => {
  /** find's POSIX ERE here uses nothing JavaScript reads differently. */
  const matches = (glob: string, path: string): boolean => new RegExp(`^${appLogGlobSearch('/home/user/app', glob).pathRegex}$`).test(path);

  it('starts at the literal directories and limits the depth of a glob without **', () => {
    expect(appLogGlobSearch('/home/user/app', 'var/log/*.log')).toMatchObject({ startDir: '/home/user/app/var/log', minDepth: 1, maxDepth: 1 });
    expect(appLogGlobSearch('/home/user/app', 'logs/*/x.log')).toMatchObject({ startDir: '/home/user/app/logs', minDepth: 2, maxDepth: 2 });
  });

  it('lets ** go deep, but not into node_modules or .git', () => {
    expect(appLogGlobSearch('/home/user/app', 'logs/**/*.log')).toMatchObject({
      startDir: '/home/user/app/logs',
      minDepth: 1,
      maxDepth: 16,
      prune: ['node_modules', '.git'],
    });
    expect(appLogGlobSearch('/home/user/app', '**/node_modules/*.log').prune).toEqual(['.git']);
    expect(appLogGlobSearch('/home/user/app', 'node_modules/**/*.log').startDir).toBe('/home/user/app/node_modules');
  });

  it.each([
    ['logs/**/*.log', '/home/user/app/logs/a.log', true],
    ['logs/**/*.log', '/home/user/app/logs/x/y/a.log', true],
    ['logs/**/*.log', '/home/user/app/logs/a.txt', false],
    ['logs/**/*.log', '/home/user/app/other/a.log', false],
    ['logs/*.log', '/home/user/app/logs/x/a.log', false],
    ['logs/app-?.log', '/home/user/app/logs/app-1.log', true],
    ['logs/app-?.log', '/home/user/app/logs/app-12.log', false],
    ['*.log', '/home/user/app/xlog', false],
    ['logs/**', '/home/user/app/logs/any/thing', true],
  ])('%s matches %s: %s', (glob, path, expected) => {
    expect(matches(glob, path)).toBe(expected);
  });

  it('escapes the app dir in the regex', () => {
    expect(appLogGlobSearch('/srv/a.b+c', '*.log').pathRegex).toBe('/srv/a\\.b\\+c/[^/]*\\.log');
  });
});
