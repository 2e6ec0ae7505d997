/** The probe's answer, read back. */
import { describe, expect, it } from 'vitest';
import { dependencyProbeScript, parseDependencyProbe } from '../../../../functions/shared/deployments/dependency-cache/dependency-probe.ts';

describe('parseDependencyProbe', () => {
  it('reads the toolchain, the lockfile, the config files, the installed key and package.json', () => {
    // Prepare
    const stdout = [
      'node=v20.20.2',
      'arch=x86_64',
      'npm=11.19.1',
      'zstd=yes',
      `lockfile=package-lock.json ${'a'.repeat(64)}`,
      `config=.npmrc ${'b'.repeat(64)}`,
      `installed=${'c'.repeat(64)}`,
      '@@coderunner-package.json',
      '{"name":"app",',
      '"version":"1.0.0"}',
    ].join('\n');

    // Act
    const facts = parseDependencyProbe(stdout);

    // Assert
    expect(facts).toEqual({
      nodeMajor: 20,
      arch: 'x86_64',
      npmVersion: '11.19.1',
      zstd: true,
      lockfile: { name: 'package-lock.json', sha256: 'a'.repeat(64) },
      configFiles: { '.npmrc': 'b'.repeat(64) },
      installedKey: 'c'.repeat(64),
      packageJson: '{"name":"app",\n"version":"1.0.0"}',
    });
  });

  it('ignores lines it does not understand, and a node_modules mark that is not a key', () => {
    // Act
    const facts = parseDependencyProbe('node=\narch=$(x)\ninstalled=garbage\nlockfile=package-lock.json nothex\nnoise\n');

    // Assert
    expect(facts).toEqual({ zstd: false, configFiles: {} });
  });

  it('asks for the lockfiles it is given, in order, quoted', () => {
    expect(dependencyProbeScript(['npm-shrinkwrap.json', 'package-lock.json'])).toContain("for cr_f in 'npm-shrinkwrap.json' 'package-lock.json'; do");
  });
});
