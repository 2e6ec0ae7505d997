/**
 * planBuild's package manager and install: packageManager first, else the lockfile; yarn and pnpm
 * as pinned releases through npx (never corepack), devDependencies kept for the build.
 */
import { describe, expect, it } from 'vitest';
import { planBuild } from '../../../../functions/shared/deployments/build-plan/build-plan.ts';
import { berryLock, DEPENDS_ON_MS, envOf, pnpmLock, project, YARN_CLASSIC_LOCK } from './project.ts';

describe('npm', () => {
  it('installs with npm ci when package-lock.json exists', () => {
    // Prepare
    const files = project({ 'package.json': DEPENDS_ON_MS, 'package-lock.json': { lockfileVersion: 3 } });

    // Act
    const plan = planBuild(files);

    // Assert
    expect(plan.install).toEqual({
      command: 'npm ci',
      reason: 'package-lock.json found: npm ci installs exactly the versions locked in package-lock.json',
      source: 'detected',
    });
    expect(plan.packageManager).toEqual({ name: 'npm', reason: plan.install?.reason });
  });

  it('installs with npm ci when npm-shrinkwrap.json exists', () => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'npm-shrinkwrap.json': { lockfileVersion: 3 } });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npm ci');
    expect(plan.install?.reason).toBe('npm-shrinkwrap.json found: npm ci installs exactly the versions locked in npm-shrinkwrap.json');
  });

  it('installs with npm install and says the versions are not locked when there is no lockfile', () => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'server.js': '' });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npm install');
    expect(plan.install?.reason).toBe('no lockfile found: npm install resolves the versions package.json allows');
    expect(plan.notes).toContain('no lockfile: dependency versions are not locked, so each deploy may install newer releases than you tested');
  });

  it('installs nothing when package.json lists no dependencies, and says so', () => {
    const files = project({ 'package.json': { name: 'app', scripts: { start: 'node server.js' } }, 'server.js': '' });

    const plan = planBuild(files);

    expect(plan.install).toBeUndefined();
    expect(plan.packageManager).toBeUndefined();
    expect(plan.notes).toContain('package.json lists no dependencies: nothing to install');
  });

  it('says nothing about a missing lockfile when there is nothing to install', () => {
    // Prepare
    const files = project({ 'package.json': { name: 'app', scripts: { start: 'node server.js' } }, 'server.js': '' });

    // Act
    const plan = planBuild(files);

    // Assert
    expect(plan.notes.join('\n')).not.toContain('lockfile');
  });

  it("runs the sandbox's own npm when packageManager names an npm release", () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, packageManager: 'npm@10.9.2' }, 'package-lock.json': {} });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npm ci');
    expect(plan.install?.reason).toBe(
      `package.json's packageManager is "npm@10.9.2": npm ci installs exactly the versions locked in package-lock.json (with the sandbox's own npm, not npm@10.9.2)`,
    );
  });
});

describe('yarn 1', () => {
  it('installs a Yarn 1 lockfile with yarn@1 through npx and --frozen-lockfile', () => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'yarn.lock': YARN_CLASSIC_LOCK });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes yarn@1 install --frozen-lockfile');
    expect(plan.install?.reason).toBe(
      'yarn.lock (Yarn 1 format) found: Yarn 1 installs exactly the locked versions (--frozen-lockfile), run through npx because the sandbox has no yarn',
    );
    expect(plan.packageManager).toMatchObject({ name: 'yarn', version: '1' });
  });

  it('runs the exact Yarn 1 release packageManager names', () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, packageManager: 'yarn@1.22.22' }, 'yarn.lock': YARN_CLASSIC_LOCK });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes yarn@1.22.22 install --frozen-lockfile');
    expect(plan.install?.reason).toBe(
      `package.json's packageManager is "yarn@1.22.22" and yarn.lock found: Yarn 1.22.22 installs exactly the locked versions (--frozen-lockfile), run through npx because the sandbox has no yarn`,
    );
  });

  it('takes an unreadable (too big) yarn.lock for a Yarn 1 lockfile, and says so', () => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'yarn.lock': null });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes yarn@1 install --frozen-lockfile');
    expect(plan.notes).toContain('yarn.lock could not be read: taken as a Yarn 1 lockfile');
  });
});

describe('yarn berry', () => {
  it('installs a Berry lockfile with @yarnpkg/cli-dist through npx and --immutable', () => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'yarn.lock': berryLock(10) });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes @yarnpkg/cli-dist@4.18.1 install --immutable');
    expect(plan.install?.reason).toBe(
      'yarn.lock (Yarn Berry format) found: Yarn 4.18.1 (which writes this lockfile format, __metadata version 10) installs exactly the locked versions (--immutable), run through npx from @yarnpkg/cli-dist (the Yarn CLI on the npm registry) because the sandbox has no yarn',
    );
  });

  it.each([
    [4, true, '2.4.2'],
    [5, true, '3.1.1'],
    [6, true, '3.8.7'],
    [8, false, '4.0.2'],
    [8, true, '4.13.0'],
    [9, true, '4.14.1'],
  ])('picks the Yarn release that writes __metadata version %i (cacheKey checksums: %s): %s', (version, cacheKeyChecksums, release) => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'yarn.lock': berryLock(version, cacheKeyChecksums) });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe(`npx --yes @yarnpkg/cli-dist@${release} install --immutable`);
    expect(plan.install?.reason).toContain(`Yarn ${release} (which writes this lockfile format, __metadata version ${version})`);
  });

  it('uses the latest Yarn 4 for a lockfile version it does not know, and says how to pin one', () => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'yarn.lock': berryLock(11) });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes @yarnpkg/cli-dist@4 install --immutable');
    expect(plan.notes).toContain(
      "yarn.lock's __metadata version 11 is not one the plan knows: using the latest Yarn 4; set packageManager in package.json to pin the release",
    );
  });

  it('runs the exact Yarn release packageManager names', () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, packageManager: 'yarn@4.5.0+sha512.abc' }, 'yarn.lock': berryLock(8) });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes @yarnpkg/cli-dist@4.5.0 install --immutable');
    expect(plan.install?.reason).toBe(
      `package.json's packageManager is "yarn@4.5.0+sha512.abc" and yarn.lock found: Yarn 4.5.0 (as packageManager asks) installs exactly the locked versions (--immutable), run through npx from @yarnpkg/cli-dist (the Yarn CLI on the npm registry) because the sandbox has no yarn`,
    );
    expect(plan.packageManager).toMatchObject({ name: 'yarn', version: '4.5.0' });
  });

  it('falls back to the latest Yarn 2 for a release older than the first one on the npm registry', () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, packageManager: 'yarn@2.1.0' }, 'yarn.lock': berryLock(4) });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes @yarnpkg/cli-dist@2 install --immutable');
    expect(plan.notes).toContain('Yarn 2.1.0 is not on the npm registry (its CLI package starts at 2.4.1): using the latest Yarn 2');
  });

  it('runs the Yarn release the project ships when .yarnrc.yml has yarnPath and the file is there', () => {
    const files = project({
      'package.json': DEPENDS_ON_MS,
      'yarn.lock': berryLock(8),
      '.yarnrc.yml': 'nodeLinker: node-modules\nyarnPath: .yarn/releases/yarn-4.5.0.cjs\n',
      '.yarn/releases/yarn-4.5.0.cjs': null,
    });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe("node '.yarn/releases/yarn-4.5.0.cjs' install --immutable");
    expect(plan.install?.reason).toBe(
      "yarn.lock (Yarn Berry format) found: the Yarn release the project ships (.yarn/releases/yarn-4.5.0.cjs, .yarnrc.yml's yarnPath) installs exactly the locked versions (--immutable)",
    );
  });

  it('tells Yarn to ignore a yarnPath whose file was not uploaded', () => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'yarn.lock': berryLock(10), '.yarnrc.yml': 'yarnPath: .yarn/releases/yarn-4.5.0.cjs\n' });

    const plan = planBuild(files);

    expect(envOf(plan, 'YARN_IGNORE_PATH')).toEqual({
      name: 'YARN_IGNORE_PATH',
      value: '1',
      reason: ".yarnrc.yml's yarnPath (.yarn/releases/yarn-4.5.0.cjs) is not among the uploaded files",
      phases: ['install', 'build', 'start'],
    });
    expect(plan.install?.command).toBe('npx --yes @yarnpkg/cli-dist@4.18.1 install --immutable');
  });

  it('installs without --immutable when packageManager names Berry but there is no yarn.lock', () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, packageManager: 'yarn@4.18.1' } });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes @yarnpkg/cli-dist@4.18.1 install --no-immutable');
    expect(plan.install?.reason).toContain("--no-immutable, since Yarn refuses to create a lockfile in CI");
  });

  it("starts a node file through yarn under Plug'n'Play, which has no node_modules", () => {
    const files = project({ 'package.json': { dependencies: { express: '4.21.2' } }, 'yarn.lock': berryLock(10), 'server.js': '' });

    const plan = planBuild(files);

    expect(plan.start.command).toBe('npx --yes @yarnpkg/cli-dist@4.18.1 node server.js');
    expect(plan.notes).toContain(
      "Yarn Plug'n'Play (no nodeLinker: node-modules in .yarnrc.yml): commands run through yarn, since there is no node_modules folder",
    );
  });

  it('starts a node file with plain node when .yarnrc.yml asks for a node_modules folder', () => {
    const files = project({
      'package.json': { dependencies: { express: '4.21.2' } },
      'yarn.lock': berryLock(10),
      '.yarnrc.yml': 'nodeLinker: node-modules\n',
      'server.js': '',
    });

    const plan = planBuild(files);

    expect(plan.start.command).toBe('node server.js');
  });
});

describe('pnpm', () => {
  it.each([
    ['9.0', '9'],
    ['6.0', '8'],
    ['5.4', '7'],
    ['5.3', '6'],
  ])('installs lockfileVersion %s with pnpm %s through npx and --frozen-lockfile', (lockfileVersion, major) => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'pnpm-lock.yaml': pnpmLock(lockfileVersion) });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe(`npx --yes pnpm@${major} install --frozen-lockfile`);
    expect(plan.install?.reason).toBe(
      `pnpm-lock.yaml (lockfileVersion ${lockfileVersion}) found: pnpm ${major} (which writes lockfileVersion ${lockfileVersion}) installs exactly the locked versions (--frozen-lockfile), run through npx because the sandbox has no pnpm`,
    );
  });

  it('runs the exact pnpm release packageManager names, without its hash', () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, packageManager: 'pnpm@9.12.0+sha512.4abf' }, 'pnpm-lock.yaml': pnpmLock('9.0') });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes pnpm@9.12.0 install --frozen-lockfile');
    expect(plan.install?.reason).toBe(
      `package.json's packageManager is "pnpm@9.12.0+sha512.4abf" and pnpm-lock.yaml (lockfileVersion 9.0) found: pnpm 9.12.0 (as packageManager asks) installs exactly the locked versions (--frozen-lockfile), run through npx because the sandbox has no pnpm`,
    );
    expect(plan.packageManager).toMatchObject({ name: 'pnpm', version: '9.12.0' });
  });

  it("runs pnpm 10 instead of pnpm 11 on the sandbox's Node 20, and says why", () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, packageManager: 'pnpm@11.2.0' }, 'pnpm-lock.yaml': pnpmLock('9.0') });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes pnpm@10 install --frozen-lockfile');
    expect(plan.notes).toContain(
      'packageManager asks for pnpm@11.2.0, which needs Node 22.13 or newer; the sandbox has Node 20: using pnpm 10, which reads and writes the same lockfile (9.0)',
    );
  });

  it('runs pnpm 11 as asked when the sandbox has a Node new enough for it', () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, packageManager: 'pnpm@11.2.0' }, 'pnpm-lock.yaml': pnpmLock('9.0') });

    const plan = planBuild(files, {}, { nodeMajorVersion: 24 });

    expect(plan.install?.command).toBe('npx --yes pnpm@11.2.0 install --frozen-lockfile');
  });

  it('installs with --no-frozen-lockfile when packageManager names pnpm but there is no pnpm-lock.yaml', () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, packageManager: 'pnpm@9.12.0' } });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes pnpm@9.12.0 install --no-frozen-lockfile');
    expect(plan.install?.reason).toBe(
      `package.json's packageManager is "pnpm@9.12.0" and there is no pnpm-lock.yaml: pnpm 9.12.0 (as packageManager asks) resolves the versions package.json allows, run through npx because the sandbox has no pnpm`,
    );
    expect(plan.notes).toContain('no pnpm-lock.yaml: dependency versions are not locked, so each deploy may install newer releases than you tested');
  });

  it('builds and starts with the same npx invocation as the install', () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, scripts: { build: 'tsc', start: 'node dist/index.js' } }, 'pnpm-lock.yaml': pnpmLock('9.0') });

    const plan = planBuild(files);

    expect(plan.build?.command).toBe('npx --yes pnpm@9 run build');
    expect(plan.start.command).toBe('npx --yes pnpm@9 run start');
    expect(plan.start.reason).toBe('package.json has scripts.start (`node dist/index.js`): run with pnpm (npx --yes pnpm@9)');
  });
});

describe('bun', () => {
  it('installs with bun and --frozen-lockfile when the sandbox has bun', () => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'bun.lock': '{}' });

    const plan = planBuild(files, {}, { sandboxTools: ['bun'] });

    expect(plan.install?.command).toBe('bun install --frozen-lockfile');
    expect(plan.install?.reason).toBe('bun.lock found: bun installs exactly the locked versions (--frozen-lockfile)');
    expect(plan.start.command).toBe('bun run start');
  });

  it('falls back to npm install with a note when the sandbox has no bun', () => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'bun.lockb': null });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npm install');
    expect(plan.install?.reason).toBe('bun.lockb found but the sandbox has no bun: npm install resolves the versions package.json allows');
    expect(plan.notes).toContain("bun.lockb found but the sandbox has no bun: using npm install, which cannot read bun's lockfile, so dependency versions are not locked");
  });
});

describe('choosing among several signals', () => {
  it('follows packageManager over a lockfile of another package manager, and says which lockfile it ignores', () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, packageManager: 'pnpm@9.12.0' }, 'pnpm-lock.yaml': pnpmLock('9.0'), 'package-lock.json': {} });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npx --yes pnpm@9.12.0 install --frozen-lockfile');
    expect(plan.notes).toContain('package-lock.json is ignored: pnpm-lock.yaml decides the package manager');
  });

  it('prefers package-lock.json when several lockfiles exist without packageManager', () => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'yarn.lock': YARN_CLASSIC_LOCK, 'package-lock.json': {} });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npm ci');
    expect(plan.notes).toContain('yarn.lock is ignored: package-lock.json decides the package manager');
  });

  it('lets the lockfile decide when packageManager names a tool the plan does not know', () => {
    const files = project({ 'package.json': { ...DEPENDS_ON_MS, packageManager: 'deno@2.0.0' }, 'package-lock.json': {} });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npm ci');
    expect(plan.notes).toContain(`package.json's packageManager names "deno@2.0.0", which the plan does not know: the lockfiles decide`);
  });
});

describe('devDependencies for the build', () => {
  const withBuild = { ...DEPENDS_ON_MS, scripts: { build: 'tsc', start: 'node dist/index.js' }, devDependencies: { typescript: '5.9.3' } };

  it('adds --include=dev to npm ci when the caller sets NODE_ENV=production and a build needs devDependencies', () => {
    const files = project({ 'package.json': withBuild, 'package-lock.json': {} });

    const plan = planBuild(files, {}, { userEnv: { NODE_ENV: 'production' } });

    expect(plan.install?.command).toBe('npm ci --include=dev');
    expect(plan.install?.reason).toBe(
      'package-lock.json found: npm ci installs exactly the versions locked in package-lock.json (--include=dev: the build needs devDependencies even under NODE_ENV=production)',
    );
    expect(plan.notes).toContain(
      'NODE_ENV=production in your env would make npm skip the devDependencies the build needs: the install adds --include=dev',
    );
  });

  it('adds --prod=false to a pnpm install under NODE_ENV=production', () => {
    const files = project({ 'package.json': withBuild, 'pnpm-lock.yaml': pnpmLock('9.0') });

    const plan = planBuild(files, {}, { userEnv: { NODE_ENV: 'production' } });

    expect(plan.install?.command).toBe('npx --yes pnpm@9 install --frozen-lockfile --prod=false');
  });

  it('adds --production=false to a Yarn 1 install under NODE_ENV=production', () => {
    const files = project({ 'package.json': withBuild, 'yarn.lock': YARN_CLASSIC_LOCK });

    const plan = planBuild(files, {}, { userEnv: { NODE_ENV: 'production' } });

    expect(plan.install?.command).toBe('npx --yes yarn@1 install --frozen-lockfile --production=false');
  });

  it('adds --include=dev when the project .npmrc omits devDependencies', () => {
    const files = project({ 'package.json': withBuild, 'package-lock.json': {}, '.npmrc': 'omit=dev\n' });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('npm ci --include=dev');
    expect(plan.notes).toContain(".npmrc's setting to omit devDependencies would make npm skip the devDependencies the build needs: the install adds --include=dev");
  });

  it('leaves the install as is under NODE_ENV=production when nothing is built', () => {
    const files = project({ 'package.json': DEPENDS_ON_MS, 'package-lock.json': {} });

    const plan = planBuild(files, {}, { userEnv: { NODE_ENV: 'production' } });

    expect(plan.install?.command).toBe('npm ci');
  });

  it('never sets NODE_ENV for the install or the build', () => {
    const files = project({ 'package.json': withBuild, 'package-lock.json': {} });

    const plan = planBuild(files);

    expect(envOf(plan, 'NODE_ENV')?.phases).toEqual(['start']);
  });
});
