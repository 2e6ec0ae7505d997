/**
 * planBuild on copies of projects made with the official scaffolders (see fixtures/README.md).
 * Each plan here was also run for real on this machine (install, build, start, then an HTTP GET
 * with a sandbox-style Host header) while it was written.
 */
import { describe, expect, it } from 'vitest';
import { planBuild, type BuildPlan } from '../../../../functions/shared/deployments/build-plan/build-plan.ts';
import { envOf, fixtureFiles } from './project.ts';

const CONTEXT = { sandboxDomain: 'agentsphere.run' };

function plan(fixture: string): BuildPlan {
  return planBuild(fixtureFiles(fixture), {}, CONTEXT);
}

/** The commands as one line each, to compare a plan at a glance. */
function commandsOf(built: BuildPlan): Record<string, string | number | undefined> {
  return { install: built.install?.command, build: built.build?.command, start: built.start.command, port: built.port.value };
}

describe('scaffolded apps', () => {
  it('plans the create-vite React template: npm ci, vite build, the preview on $PORT with the sandbox domain allowed', () => {
    const built = plan('vite-react');

    expect(commandsOf(built)).toEqual({ install: 'npm ci', build: 'npm run build', start: 'npx vite preview --host 0.0.0.0 --port $PORT --strictPort', port: 3000 });
    expect(built.framework).toBe('vite');
    expect(built.start.reason).toContain("Vite app without scripts.start: Vite's preview server serves the build (dist/) on $PORT");
    expect(envOf(built, '__VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS')?.value).toBe('.agentsphere.run');
    expect(envOf(built, 'NODE_ENV')).toBeUndefined();
  });

  it('plans the create-next-app app: npm ci, next build, next start, telemetry off, a note about Google fonts', () => {
    const built = plan('next-app');

    expect(commandsOf(built)).toEqual({ install: 'npm ci', build: 'npm run build', start: 'npm start', port: 3000 });
    expect(built.framework).toBe('next');
    expect(built.port.reason).toBe('the start command runs `next start`, which listens on PORT: 3000 is the default, set as PORT');
    expect(envOf(built, 'NEXT_TELEMETRY_DISABLED')?.phases).toEqual(['build', 'start']);
    expect(built.notes).toEqual([
      'app/layout.tsx uses next/font/google: `next build` downloads the fonts from fonts.googleapis.com and fails if the sandbox cannot reach it (next/font/local avoids that)',
    ]);
  });

  it('plans the Nest starter: npm ci, nest build, start:prod rather than nest start', () => {
    const built = plan('nest-app');

    expect(commandsOf(built)).toEqual({ install: 'npm ci', build: 'npm run build', start: 'npm run start:prod', port: 3000 });
    expect(built.framework).toBe('nest');
    expect(built.port.reason).toBe('src/main.ts reads PORT: 3000 is the default, set as PORT');
    expect(envOf(built, 'NODE_ENV')?.phases).toEqual(['start']);
  });

  it('plans the express-generator app with only a yarn.lock: Yarn 1 through npx, frozen', () => {
    const built = plan('express-yarn');

    expect(commandsOf(built)).toEqual({ install: 'npx --yes yarn@1 install --frozen-lockfile', build: undefined, start: 'npx --yes yarn@1 run start', port: 3000 });
    expect(built.framework).toBe('express');
    expect(built.port.reason).toBe('bin/www reads PORT: 3000 is the default, set as PORT');
  });

  it('plans the Hono Node starter: tsc build, and the port its source hard-codes', () => {
    const built = plan('hono-node');

    expect(commandsOf(built)).toEqual({ install: 'npm ci', build: 'npm run build', start: 'npm start', port: 3000 });
    expect(built.framework).toBe('hono');
    expect(built.port).toEqual({ value: 3000, reason: 'src/index.ts listens on 3000, hard-coded (it does not read PORT)', source: 'detected' });
  });

  it('plans the pnpm Vue project: pnpm 9 through npx for install and build', () => {
    const built = plan('vue-pnpm');

    expect(commandsOf(built)).toEqual({
      install: 'npx --yes pnpm@9 install --frozen-lockfile',
      build: 'npx --yes pnpm@9 run build',
      start: 'npx vite preview --host 0.0.0.0 --port $PORT --strictPort',
      port: 3000,
    });
    expect(built.packageManager).toMatchObject({ name: 'pnpm', version: '9' });
  });

  it('plans the fastify-cli app: npm install without a lockfile, and fastify start on every interface', () => {
    const built = plan('fastify-cli');

    expect(commandsOf(built)).toEqual({ install: 'npm install', build: undefined, start: 'npm start', port: 3000 });
    expect(envOf(built, 'FASTIFY_ADDRESS')?.value).toBe('0.0.0.0');
    expect(built.notes).toContain('no lockfile: dependency versions are not locked, so each deploy may install newer releases than you tested');
  });

  it("plans the Yarn 4 Plug'n'Play server: the matching Yarn release, immutable, node through yarn", () => {
    const built = plan('yarn-berry-pnp');

    expect(commandsOf(built)).toEqual({
      install: 'npx --yes @yarnpkg/cli-dist@4.18.1 install --immutable',
      build: undefined,
      start: 'npx --yes @yarnpkg/cli-dist@4.18.1 node server.js',
      port: 3000,
    });
  });

  it("plans the static site: the product's static file server and nothing to install", () => {
    const built = plan('static-site');

    expect(commandsOf(built)).toEqual({ install: undefined, build: undefined, start: 'node /home/user/.coderunner/static-server.mjs .', port: 3000 });
    expect(built.runtime).toBe('static');
    expect(built.providedFiles).toEqual(['static-server']);
  });

  it('plans the standard-library Python app: plain python3, unbuffered', () => {
    const built = plan('python-stdlib');

    expect(commandsOf(built)).toEqual({ install: undefined, build: undefined, start: 'python3 app.py', port: 3000 });
    expect(built.port.reason).toBe('app.py reads PORT: 3000 is the default, set as PORT');
    expect(envOf(built, 'PYTHONUNBUFFERED')?.value).toBe('1');
  });

  it('never plans corepack', () => {
    const fixtures = ['vite-react', 'next-app', 'nest-app', 'express-yarn', 'hono-node', 'vue-pnpm', 'fastify-cli', 'yarn-berry-pnp', 'static-site', 'python-stdlib'];

    const commands = fixtures.flatMap((fixture) => Object.values(commandsOf(plan(fixture))));

    expect(commands.filter((command) => String(command).includes('corepack'))).toEqual([]);
  });
});
