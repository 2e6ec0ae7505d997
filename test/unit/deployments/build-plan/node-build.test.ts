/** planBuild's build step for Node projects: scripts.build, the framework's own build, a TypeScript server's tsc. */
import { describe, expect, it } from 'vitest';
import { planBuild } from '../../../../functions/shared/deployments/build-plan/build-plan.ts';
import { project } from './project.ts';

describe('the build step', () => {
  it('runs scripts.build with the project package manager, after an install that includes devDependencies', () => {
    // Prepare
    const files = project({
      'package.json': { scripts: { build: 'tsc', start: 'node dist/index.js' }, dependencies: { hono: '4.10.4' }, devDependencies: { typescript: '5.9.3' } },
      'package-lock.json': {},
    });

    // Act
    const plan = planBuild(files);

    // Assert
    expect(plan.build).toEqual({
      command: 'npm run build',
      reason: 'package.json has scripts.build (`tsc`): run with npm after the install, which includes the devDependencies it needs',
      source: 'detected',
    });
  });

  it('runs next build when a Next.js app has no build script', () => {
    const files = project({ 'package.json': { scripts: { start: 'next start' }, dependencies: { next: '16.4.3' } }, 'package-lock.json': {} });

    const plan = planBuild(files);

    expect(plan.build).toEqual({
      command: 'npx next build',
      reason: '`next start` needs a production build and package.json has no build script: `next build` makes it',
      source: 'detected',
    });
  });

  it('runs vite build when a Vite app has no build script, since the preview serves the build', () => {
    const files = project({ 'package.json': { devDependencies: { vite: '8.3.4' } }, 'package-lock.json': {}, 'index.html': '' });

    const plan = planBuild(files);

    expect(plan.build).toEqual({
      command: 'npx vite build',
      reason: "Vite's preview server serves the build in dist/ and package.json has no build script: `vite build` makes it",
      source: 'detected',
    });
  });

  it('compiles a TypeScript server with tsc when the start runs dist/ output that no build script writes', () => {
    const files = project({
      'package.json': { scripts: { start: 'node dist/index.js' }, dependencies: { express: '5.1.0' }, devDependencies: { typescript: '5.9.3' } },
      'package-lock.json': {},
      'tsconfig.json': { compilerOptions: { outDir: 'dist' } },
      'src/index.ts': 'app.listen(process.env.PORT)',
    });

    const plan = planBuild(files);

    expect(plan.build).toEqual({
      command: 'npx tsc',
      reason: 'the start runs dist/index.js, which is not among the files and no build script writes it: tsc compiles the TypeScript with tsconfig.json',
      source: 'detected',
    });
    expect(plan.notes).toContain(
      'the start runs dist/index.js, which is not among the files, and package.json has no build script: the plan compiles it with tsc (add "build": "tsc" to package.json to make this explicit)',
    );
  });

  it('notes a start that runs missing dist/ output when typescript is not a dependency, and plans no build', () => {
    const files = project({
      'package.json': { scripts: { start: 'node dist/index.js' }, dependencies: { express: '5.1.0' } },
      'package-lock.json': {},
      'tsconfig.json': {},
    });

    const plan = planBuild(files);

    expect(plan.build).toBeUndefined();
    expect(plan.notes).toContain(
      'the start runs dist/index.js, which is not among the files, and package.json has no build script (tsconfig.json found, but typescript is not a dependency): upload the build output or add a build script',
    );
  });

  it('plans no build when the start runs build output that was uploaded', () => {
    const files = project({
      'package.json': { scripts: { start: 'node dist/index.js' }, dependencies: { express: '5.1.0' }, devDependencies: { typescript: '5.9.3' } },
      'package-lock.json': {},
      'tsconfig.json': {},
      'dist/index.js': '',
    });

    const plan = planBuild(files);

    expect(plan.build).toBeUndefined();
  });

  it('plans no build for a server that needs none', () => {
    const files = project({ 'package.json': { scripts: { start: 'node server.js' }, dependencies: { express: '5.1.0' } }, 'package-lock.json': {} });

    const plan = planBuild(files);

    expect(plan.build).toBeUndefined();
  });

  it('notes a script that calls pnpm by name, since the sandbox runs pnpm only through npx', () => {
    const files = project({
      'package.json': { packageManager: 'pnpm@9.12.0', scripts: { build: 'pnpm run build:client && pnpm run build:server', start: 'node dist/server.js' }, dependencies: { express: '5.1.0' } },
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
    });

    const plan = planBuild(files);

    expect(plan.notes).toContain(
      '`pnpm run build:client && pnpm run build:server` calls pnpm, which is not on the sandbox\'s PATH (the plan runs package managers through npx): the script may fail with "pnpm: command not found"',
    );
  });
});
