/** planBuild's options (each replaces its part of the plan), PlanError, and projects that are not at the root. */
import { describe, expect, it } from 'vitest';
import { PlanError, planBuild } from '../../../../functions/shared/deployments/build-plan/build-plan.ts';
import { project } from './project.ts';

const NEXT_APP = { 'package.json': { scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '16.4.3' } }, 'package-lock.json': {} };

function planError(act: () => unknown): PlanError {
  try {
    act();
  } catch (error) {
    if (error instanceof PlanError) return error;
    throw error;
  }
  throw new Error('expected a PlanError');
}

describe('options', () => {
  it('replaces the start with options.startCommand', () => {
    // Prepare
    const files = project(NEXT_APP);

    // Act
    const plan = planBuild(files, { startCommand: 'npx next start -H 0.0.0.0' });

    // Assert
    expect(plan.start).toEqual({ command: 'npx next start -H 0.0.0.0', reason: 'given as options.startCommand', source: 'option' });
  });

  it('replaces the install with options.installCommand', () => {
    const files = project(NEXT_APP);

    const plan = planBuild(files, { installCommand: 'npm install --legacy-peer-deps' });

    expect(plan.install).toEqual({ command: 'npm install --legacy-peer-deps', reason: 'given as options.installCommand', source: 'option' });
  });

  it('replaces the build with options.buildCommand', () => {
    const files = project(NEXT_APP);

    const plan = planBuild(files, { buildCommand: 'npm run build:prod' });

    expect(plan.build).toEqual({ command: 'npm run build:prod', reason: 'given as options.buildCommand', source: 'option' });
  });

  it('replaces the port with options.port and sets PORT to it', () => {
    const files = project(NEXT_APP);

    const plan = planBuild(files, { port: 8081 });

    expect(plan.port).toEqual({ value: 8081, reason: 'given as options.port', source: 'option' });
    expect(plan.env[0]).toEqual({ name: 'PORT', value: '8081', reason: 'the port the deployment reaches the app on (options.port)', phases: ['install', 'build', 'start'] });
  });

  it('adds an install and a build where the plan found none, when given', () => {
    const files = project({ 'server.js': '' });

    const plan = planBuild(files, { installCommand: 'npm install express', buildCommand: 'node build.js' });

    expect(plan.install?.source).toBe('option');
    expect(plan.build?.source).toBe('option');
  });

  it('plans a project with nothing to start when options.startCommand is given', () => {
    const files = project({ 'README.md': '# hi' });

    const plan = planBuild(files, { startCommand: './server' });

    expect(plan.start).toEqual({ command: './server', reason: 'given as options.startCommand', source: 'option' });
  });

  it('drops the static file server when options.startCommand replaces it', () => {
    const files = project({ 'index.html': '' });

    const plan = planBuild(files, { startCommand: 'npx serve -l $PORT' });

    expect(plan.providedFiles).toBeUndefined();
    expect(plan.runtime).toBe('node');
  });

  it('installs the dependencies a static site would skip when options.startCommand replaces its start', () => {
    const files = project({ 'package.json': { dependencies: { express: '5.1.0' } }, 'package-lock.json': {}, 'index.html': '', 'web.mjs': '' });

    const plan = planBuild(files, { startCommand: 'node web.mjs' });

    expect(plan.install?.command).toBe('npm ci');
  });
});

describe('PlanError', () => {
  it('names options.startCommand and what it looked for when nothing can be started', () => {
    const files = project({ 'README.md': '# hi', 'package.json': { dependencies: { lodash: '4.17.21' } } });

    const error = planError(() => planBuild(files));

    expect(error.name).toBe('PlanError');
    expect(error.field).toBe('options.startCommand');
    expect(error.message).toBe(
      'no start command found: looked for options.startCommand, scripts.start in package.json, a framework default (Vite preview, next start), a Procfile web: line, ' +
        "package.json's main, server.js/index.js/app.js/main.js/src/server.js/src/index.js/src/app.js/src/main.js, " +
        'an index.html (in the root, public/, dist/ or build/); pass options.startCommand (e.g. "node server.js").',
    );
  });

  it('includes the note that says why a TypeScript entry cannot run', () => {
    const files = project({ 'package.json': { dependencies: { hono: '4.10.4' } }, 'src/index.ts': '' });

    const error = planError(() => planBuild(files));

    expect(error.message).toContain(
      'src/index.ts found, but Node 20 cannot run TypeScript and neither tsx nor ts-node is a dependency: add a build script (tsc) and a start script, or tsx',
    );
  });

  it('includes the note about package.json files below the root', () => {
    const files = project({ 'web/package.json': { scripts: { start: 'node index.js' } } });

    const error = planError(() => planBuild(files));

    expect(error.message).toContain('package.json found in web/ but not at the root: the plan reads only the root');
  });

  it('names what a Python project was searched for', () => {
    const files = project({ 'requirements.txt': 'requests\n', 'lib/util.py': '' });

    const error = planError(() => planBuild(files));

    expect(error.message).toBe(
      'no start command found: looked for options.startCommand, a Procfile web: line, a FastAPI or Flask app object (main.py, app.py, ...), a Django manage.py, app.py/main.py/server.py/run.py; pass options.startCommand (e.g. "python3 app.py").',
    );
  });

  it('names package.json and the JSON error when package.json is malformed', () => {
    const files = project({ 'package.json': '{ "name": "app", }' });

    const error = planError(() => planBuild(files, { startCommand: 'node x.js' }));

    expect(error.field).toBe('files');
    expect(error.message).toMatch(/^package\.json is not valid JSON: .+/);
    expect(error.message).toContain(errorOfJson('{ "name": "app", }'));
  });

  it('refuses a package.json that is not a JSON object', () => {
    const files = project({ 'package.json': '["app"]' });

    const error = planError(() => planBuild(files));

    expect(error.field).toBe('files');
    expect(error.message).toBe('package.json must hold a JSON object');
  });
});

describe('projects not at the root', () => {
  it('notes package.json files below the root and does not guess among them', () => {
    const files = project({ 'client/package.json': { scripts: { start: 'vite' } }, 'server/package.json': { scripts: { start: 'node index.js' } } });

    const plan = planBuild(files, { startCommand: 'cd server && npm start' });

    expect(plan.install).toBeUndefined();
    expect(plan.notes).toContain(
      'package.json found in client/, server/ but not at the root: the plan reads only the root; deploy that folder, or pass options.installCommand and options.startCommand',
    );
  });

  it('notes a workspace root, whose install covers every workspace', () => {
    const files = project({ 'package.json': { workspaces: ['apps/*'], scripts: { start: 'npm -w apps/web start' }, devDependencies: { turbo: '2.5.0' } }, 'package-lock.json': {} });

    const plan = planBuild(files);

    expect(plan.notes).toContain("a workspace root (monorepo): the install covers every workspace, and the plan uses only the root package.json's scripts");
  });
});

function errorOfJson(text: string): string {
  try {
    JSON.parse(text);
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}
