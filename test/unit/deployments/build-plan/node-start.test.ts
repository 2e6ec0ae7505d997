/**
 * planBuild's start for Node projects, in order: scripts.start (with framework preferences), a
 * framework default, a Procfile, an entry file, a static folder.
 */
import { describe, expect, it } from 'vitest';
import { planBuild } from '../../../../functions/shared/deployments/build-plan/build-plan.ts';
import { project } from './project.ts';

describe('scripts.start and framework preferences', () => {
  it('runs scripts.start with npm start', () => {
    // Prepare
    const files = project({ 'package.json': { scripts: { start: 'node ./bin/www' }, dependencies: { express: '4.21.2' } }, 'package-lock.json': {} });

    // Act
    const plan = planBuild(files);

    // Assert
    expect(plan.start).toEqual({ command: 'npm start', reason: 'package.json has scripts.start (`node ./bin/www`): run with npm', source: 'detected' });
    expect(plan.framework).toBe('express');
  });

  it('prefers start:prod in a Nest app, since nest start compiles again at every start', () => {
    const files = project({
      'package.json': { scripts: { build: 'nest build', start: 'nest start', 'start:prod': 'node dist/main' }, dependencies: { '@nestjs/core': '12.0.1' } },
      'package-lock.json': {},
    });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: 'npm run start:prod',
      reason: 'Nest app: scripts.start:prod (`node dist/main`) runs the compiled build, while scripts.start (`nest start`) would compile the app again at every start',
      source: 'detected',
    });
    expect(plan.framework).toBe('nest');
  });

  it('keeps scripts.start in a Nest app without a build script', () => {
    const files = project({
      'package.json': { scripts: { start: 'nest start', 'start:prod': 'node dist/main' }, dependencies: { '@nestjs/core': '12.0.1' } },
      'package-lock.json': {},
    });

    const plan = planBuild(files);

    expect(plan.start.command).toBe('npm start');
  });

  it("serves a Vite app with Vite's preview server on $PORT when it has no start script", () => {
    const files = project({ 'package.json': { scripts: { build: 'vite build' }, devDependencies: { vite: '8.3.4' } }, 'package-lock.json': {}, 'index.html': '' });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: 'npx vite preview --host 0.0.0.0 --port $PORT --strictPort',
      reason:
        "Vite app without scripts.start: Vite's preview server serves the build (dist/) on $PORT, on every interface (--host 0.0.0.0), and fails rather than pick another port (--strictPort)",
      source: 'detected',
    });
    expect(plan.framework).toBe('vite');
  });

  it("replaces a Vite start script that runs Vite's own dev server with the preview on $PORT", () => {
    const files = project({ 'package.json': { scripts: { build: 'vite build', start: 'vite --host' }, devDependencies: { vite: '8.3.4' } }, 'package-lock.json': {} });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: 'npx vite preview --host 0.0.0.0 --port $PORT --strictPort',
      reason: "Vite app: scripts.start (`vite --host`) runs Vite's own server, which ignores PORT; the plan serves the build with Vite's preview server on $PORT instead",
      source: 'detected',
    });
  });

  it('keeps a Vite app start script that runs its own server', () => {
    const files = project({ 'package.json': { scripts: { build: 'vite build', start: 'node server.js' }, devDependencies: { vite: '8.3.4' } }, 'package-lock.json': {} });

    const plan = planBuild(files);

    expect(plan.start.command).toBe('npm start');
  });

  it('runs a Vite binary through yarn under Plug\'n\'Play', () => {
    const files = project({
      'package.json': { scripts: { build: 'vite build' }, devDependencies: { vite: '8.3.4' } },
      'yarn.lock': '__metadata:\n  version: 10\n  cacheKey: 10c0\n',
    });

    const plan = planBuild(files);

    expect(plan.start.command).toBe('npx --yes @yarnpkg/cli-dist@4.18.1 run vite preview --host 0.0.0.0 --port $PORT --strictPort');
  });
});

describe('which framework', () => {
  it('takes an Express server that builds its client with Vite for an Express app', () => {
    const files = project({ 'package.json': { scripts: { build: 'vite build', start: 'node server.js' }, dependencies: { express: '5.1.0' }, devDependencies: { vite: '8.3.4' } } });

    const plan = planBuild(files);

    expect(plan.framework).toBe('express');
    expect(plan.start.command).toBe('npm start');
  });

  it('takes a Vite app with Express only in devDependencies for a Vite app', () => {
    const files = project({ 'package.json': { scripts: { build: 'vite build' }, devDependencies: { vite: '8.3.4', express: '5.1.0' } } });

    const plan = planBuild(files);

    expect(plan.framework).toBe('vite');
  });

  it('takes a Nest app for Nest, although it depends on Express', () => {
    const files = project({ 'package.json': { scripts: { start: 'nest start' }, dependencies: { '@nestjs/core': '12.0.1', '@nestjs/platform-express': '12.0.1', express: '5.1.0' } } });

    const plan = planBuild(files);

    expect(plan.framework).toBe('nest');
  });
});

describe('framework defaults without scripts.start', () => {
  it('starts a Next.js app with next start on $PORT and every interface', () => {
    const files = project({ 'package.json': { scripts: { build: 'next build' }, dependencies: { next: '16.4.3' } }, 'package-lock.json': {} });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: 'npx next start --hostname 0.0.0.0 --port $PORT',
      reason: 'Next.js app without scripts.start: `next start` serves the production build on $PORT, on every interface',
      source: 'detected',
    });
  });

  it("serves a Next.js static export's out/ folder with the static file server", () => {
    const files = project({
      'package.json': { scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '16.4.3' } },
      'package-lock.json': {},
      'next.config.mjs': "export default { output: 'export' };",
    });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: 'node /home/user/.coderunner/static-server.mjs out',
      reason:
        "next.config.mjs sets output: 'export', so the build writes a static site to out/ and `next start` cannot serve it: the product's static file server serves out/ on $PORT (no dependency to install)",
      source: 'detected',
    });
    expect(plan.runtime).toBe('static');
    expect(plan.providedFiles).toEqual(['static-server']);
    expect(plan.install?.command).toBe('npm ci');
    expect(plan.build?.command).toBe('npm run build');
  });
});

describe('Procfile and entry files', () => {
  it("runs the Procfile's web: line when package.json has no start script", () => {
    const files = project({ 'package.json': { dependencies: { express: '5.1.0' } }, Procfile: 'release: node migrate.js\nweb: node web.js --port $PORT\n', 'server.js': '' });

    const plan = planBuild(files);

    expect(plan.start).toEqual({ command: 'node web.js --port $PORT', reason: "Procfile's web: line", source: 'detected' });
  });

  it("runs package.json's main with node", () => {
    const files = project({ 'package.json': { main: 'lib/server.js', dependencies: { express: '5.1.0' } }, 'lib/server.js': '', 'index.js': '' });

    const plan = planBuild(files);

    expect(plan.start).toEqual({ command: 'node lib/server.js', reason: "package.json's main is lib/server.js: run with node", source: 'detected' });
  });

  it("runs package.json's main from the build output when the build writes it", () => {
    const files = project({ 'package.json': { main: 'dist/index.js', scripts: { build: 'tsc' }, devDependencies: { typescript: '5.9.3' } }, 'src/index.ts': '' });

    const plan = planBuild(files);

    expect(plan.start).toEqual({ command: 'node dist/index.js', reason: "package.json's main is dist/index.js, which the build writes: run with node", source: 'detected' });
  });

  it('runs server.js with node, ahead of index.js and app.js', () => {
    const files = project({ 'package.json': { main: 'index.js', dependencies: { express: '5.1.0' } }, 'server.js': '', 'app.js': '' });

    const plan = planBuild(files);

    expect(plan.start).toEqual({ command: 'node server.js', reason: 'server.js found: run with node', source: 'detected' });
  });

  it('runs src/index.mjs when the root has no entry file', () => {
    const files = project({ 'package.json': { dependencies: { koa: '3.0.0' } }, 'src/index.mjs': '' });

    const plan = planBuild(files);

    expect(plan.start).toEqual({ command: 'node src/index.mjs', reason: 'src/index.mjs found: run with node', source: 'detected' });
  });

  it('runs a TypeScript entry with tsx when tsx is a dependency', () => {
    const files = project({ 'package.json': { dependencies: { hono: '4.10.4' }, devDependencies: { tsx: '4.20.0' } }, 'src/index.ts': '' });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: 'npx tsx src/index.ts',
      reason: 'src/index.ts found and tsx is a dependency: tsx runs the TypeScript directly',
      source: 'detected',
    });
  });

  it('runs a plain server.js without package.json and installs nothing', () => {
    const files = project({ 'server.js': 'require("http").createServer().listen(process.env.PORT)' });

    const plan = planBuild(files);

    expect(plan.start.command).toBe('node server.js');
    expect(plan.install).toBeUndefined();
    expect(plan.notes).toContain('no package.json: nothing to install');
  });
});

describe('static folders', () => {
  it("serves a root index.html with the product's static file server and nothing to install", () => {
    const files = project({ 'index.html': '<h1>hi</h1>', 'style.css': '' });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: 'node /home/user/.coderunner/static-server.mjs .',
      reason: "index.html found and nothing else to start: the product's static file server serves the app folder on $PORT (no dependency to install)",
      source: 'detected',
    });
    expect(plan.runtime).toBe('static');
    expect(plan.providedFiles).toEqual(['static-server']);
    expect(plan.install).toBeUndefined();
  });

  it.each(['public', 'dist', 'build'])('serves %s/index.html when the root has none', (dir) => {
    const files = project({ [`${dir}/index.html`]: '' });

    const plan = planBuild(files);

    expect(plan.start.command).toBe(`node /home/user/.coderunner/static-server.mjs ${dir}`);
    expect(plan.start.reason).toBe(
      `${dir}/index.html found and nothing else to start: the product's static file server serves ${dir}/ on $PORT (no dependency to install)`,
    );
  });

  it('installs nothing for a static site whose package.json only has tooling and no build', () => {
    const files = project({ 'package.json': { devDependencies: { prettier: '3.6.2' } }, 'index.html': '' });

    const plan = planBuild(files);

    expect(plan.install).toBeUndefined();
    expect(plan.notes).toContain("serving static files: package.json's dependencies are not installed, since no build script needs them");
  });
});
