/** Which installs the cache can stand in for, and under which inputs. */
import { describe, expect, it } from 'vitest';
import { cacheability, lockfilesOf } from '../../../../functions/shared/deployments/dependency-cache/cacheable-install.ts';
import type { SandboxDependencyFacts } from '../../../../functions/shared/deployments/dependency-cache/dependency-probe.ts';

const FACTS: SandboxDependencyFacts = {
  nodeMajor: 20,
  arch: 'x86_64',
  npmVersion: '11.19.1',
  zstd: true,
  lockfile: { name: 'package-lock.json', sha256: 'a'.repeat(64) },
  configFiles: {},
  packageJson: '{"name":"app","scripts":{"start":"node server.js","build":"tsc"}}',
};
const NPM = { packageManager: { name: 'npm' as const, reason: 'package-lock.json found' }, installCommand: 'npm ci', installEnv: { PORT: '3000', NODE_ENV: 'production' } };

describe('cacheability', () => {
  it("caches npm ci under the lockfile, the sandbox's npm release, Node major and architecture, and the install's package-manager env", () => {
    // Act
    const result = cacheability(NPM, FACTS);

    // Assert
    expect(result).toEqual({
      cacheable: true,
      inputs: {
        lockfile: FACTS.lockfile,
        packageManager: { name: 'npm', version: '11.19.1' },
        installCommand: 'npm ci',
        nodeMajor: 20,
        arch: 'x86_64',
        configFiles: {},
        installEnv: { NODE_ENV: 'production' },
      },
    });
  });

  it("uses the plan's pinned release of yarn or pnpm", () => {
    // Act
    const result = cacheability(
      { packageManager: { name: 'pnpm', version: '9', reason: '' }, installCommand: 'npx --yes pnpm@9 install --frozen-lockfile', installEnv: {} },
      { ...FACTS, lockfile: { name: 'pnpm-lock.yaml', sha256: 'b'.repeat(64) } },
    );

    // Assert
    expect(result.cacheable && result.inputs.packageManager).toEqual({ name: 'pnpm', version: '9' });
  });

  it.each<[string, Partial<typeof NPM>, Partial<SandboxDependencyFacts>, string]>([
    ['pip', { packageManager: { name: 'pip', reason: '' } as never, installCommand: 'python3 -m venv .venv && .venv/bin/pip install -r requirements.txt' }, {}, 'only Node package installs are cached'],
    ['a command that does more', { installCommand: 'npm ci && node scripts/generate.js' }, {}, 'may do more than install packages'],
    ['an install of a named package', { installCommand: 'npm install left-pad' }, {}, 'may do more than install packages'],
    ['no lockfile', {}, { lockfile: undefined }, 'no lockfile (npm-shrinkwrap.json or package-lock.json) pins the dependencies'],
    ['npm workspaces', {}, { packageJson: '{"workspaces":["packages/*"]}' }, 'a workspace project installs into several node_modules folders'],
    ['a pnpm workspace', {}, { configFiles: { 'pnpm-workspace.yaml': 'c'.repeat(64) } }, 'a pnpm workspace'],
    ['a postinstall script', {}, { packageJson: '{"scripts":{"postinstall":"node build.js"}}' }, `package.json's "postinstall" script runs at install time`],
    ['a prepare script', {}, { packageJson: '{"scripts":{"prepare":"husky"}}' }, `"prepare" script`],
    ['an unreadable package.json', {}, { packageJson: '{not json' }, 'package.json could not be read'],
    ['an unknown Node', {}, { nodeMajor: undefined }, "the sandbox's Node version or architecture could not be read"],
  ])('is off for %s, saying why', (_case, install, facts, reason) => {
    // Act
    const result = cacheability({ ...NPM, ...install }, { ...FACTS, ...facts });

    // Assert
    expect(result.cacheable).toBe(false);
    expect(!result.cacheable && result.reason).toContain(reason);
  });

  it('accepts the plain installs the plans make, flags included', () => {
    for (const installCommand of [
      'npm ci --include=dev',
      'npm install --no-audit --no-fund',
      'npx --yes yarn@1 install --frozen-lockfile --production=false',
      'npx --yes @yarnpkg/cli-dist@4.5.0 install --immutable',
      'npx --yes pnpm@9 install --frozen-lockfile --prod=false',
      'node .yarn/releases/yarn-4.5.0.cjs install --immutable',
      'bun install --frozen-lockfile',
    ]) {
      expect(cacheability({ ...NPM, installCommand }, FACTS).cacheable, installCommand).toBe(true);
    }
  });
});

describe('lockfilesOf', () => {
  it("lists each Node package manager's lockfiles in the plan's order, none for others", () => {
    expect(lockfilesOf('npm')).toEqual(['npm-shrinkwrap.json', 'package-lock.json']);
    expect(lockfilesOf('yarn')).toEqual(['yarn.lock']);
    expect(lockfilesOf('bun')).toEqual(['bun.lock', 'bun.lockb']);
    expect(lockfilesOf('pip')).toEqual([]);
  });
});
