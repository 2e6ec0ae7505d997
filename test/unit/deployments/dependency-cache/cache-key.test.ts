/** The dependency cache key: the same install inputs give the same key, any change another. */
import { describe, expect, it } from 'vitest';
import { dependencyCacheKey, installEnvForKey, type DependencyKeyInputs } from '../../../../functions/shared/deployments/dependency-cache/cache-key.ts';

const INPUTS: DependencyKeyInputs = {
  lockfile: { name: 'package-lock.json', sha256: 'a'.repeat(64) },
  packageManager: { name: 'npm', version: '11.19.1' },
  installCommand: 'npm ci',
  nodeMajor: 20,
  arch: 'x86_64',
  configFiles: { '.npmrc': 'b'.repeat(64) },
  installEnv: { NODE_ENV: 'production' },
};

describe('dependencyCacheKey', () => {
  it('is a SHA-256 in hex, the same for the same inputs', () => {
    // Act
    const key = dependencyCacheKey(INPUTS);

    // Assert
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    expect(dependencyCacheKey(structuredClone(INPUTS))).toBe(key);
  });

  it.each<[string, Partial<DependencyKeyInputs>]>([
    ['the lockfile content', { lockfile: { name: 'package-lock.json', sha256: 'c'.repeat(64) } }],
    ['the lockfile name', { lockfile: { name: 'npm-shrinkwrap.json', sha256: 'a'.repeat(64) } }],
    ['the package manager', { packageManager: { name: 'pnpm', version: '11.19.1' } }],
    ["the package manager's release", { packageManager: { name: 'npm', version: '10.9.0' } }],
    ['the install command', { installCommand: 'npm ci --include=dev' }],
    ['the Node major', { nodeMajor: 22 }],
    ['the architecture', { arch: 'aarch64' }],
    ['a config file', { configFiles: { '.npmrc': 'd'.repeat(64) } }],
    ['the install environment', { installEnv: { NODE_ENV: 'development' } }],
  ])('changes with %s', (_what, change) => {
    // Act
    const changed = dependencyCacheKey({ ...INPUTS, ...change });

    // Assert
    expect(changed).not.toBe(dependencyCacheKey(INPUTS));
  });

  it('does not depend on the order of config files or environment variables', () => {
    // Prepare
    const one = { ...INPUTS, configFiles: { '.npmrc': 'b'.repeat(64), '.yarnrc': 'e'.repeat(64) }, installEnv: { NODE_ENV: 'production', npm_config_omit: 'dev' } };
    const other = { ...INPUTS, configFiles: { '.yarnrc': 'e'.repeat(64), '.npmrc': 'b'.repeat(64) }, installEnv: { npm_config_omit: 'dev', NODE_ENV: 'production' } };

    // Act & Assert
    expect(dependencyCacheKey(one)).toBe(dependencyCacheKey(other));
  });
});

describe('installEnvForKey', () => {
  it("keeps the variables package managers read and drops the app's own", () => {
    // Act
    const kept = installEnvForKey({ NODE_ENV: 'production', npm_config_legacy_peer_deps: 'true', NPM_CONFIG_OMIT: 'dev', YARN_IGNORE_PATH: '1', PORT: '3000', HOST: '0.0.0.0', DATABASE_URL: 'postgres://x' });

    // Assert
    expect(kept).toEqual({ NODE_ENV: 'production', npm_config_legacy_peer_deps: 'true', NPM_CONFIG_OMIT: 'dev', YARN_IGNORE_PATH: '1' });
  });
});
