/** planBuild's framework quirks, each an env entry with its reason and phases. */
import { describe, expect, it } from 'vitest';
import { planBuild } from '../../../../functions/shared/deployments/build-plan/build-plan.ts';
import { planProjectFiles, PREVIEW_SANDBOX_FACTS } from '../../../../functions/shared/deployments/plan-deployment.ts';
import { envOf, project } from './project.ts';

const VITE_APP = { 'package.json': { scripts: { build: 'vite build' }, devDependencies: { vite: '8.3.4' } }, 'index.html': '' };
const NEXT_APP = { 'package.json': { scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '16.4.3' } } };
const EXPRESS_APP = { 'package.json': { scripts: { start: 'node server.js' }, dependencies: { express: '5.1.0' } }, 'server.js': '' };

describe('Vite', () => {
  it("allows the sandbox domain through Vite's host check when the domain is known", () => {
    // Prepare
    const files = project(VITE_APP);

    // Act
    const plan = planBuild(files, {}, { sandboxDomain: 'agentsphere.run' });

    // Assert
    expect(envOf(plan, '__VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS')).toEqual({
      name: '__VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS',
      value: '.agentsphere.run',
      reason: "Vite's dev and preview servers answer 403 to host names they do not know; this allows the sandbox's <port>-<id>.agentsphere.run names",
      phases: ['start'],
    });
  });

  it('sets nothing and says so when the sandbox domain is not known', () => {
    const files = project(VITE_APP);

    const plan = planBuild(files);

    expect(envOf(plan, '__VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS')).toBeUndefined();
    expect(plan.notes).toContain(
      "no sandbox domain known: Vite's allowed-hosts check is left as is, so its server answers 403 to the sandbox's host name unless vite.config allows it",
    );
  });

  it("shows a client's preview the allowed hosts the service will set, without the unknown-domain note", () => {
    // Prepare
    const files = project(VITE_APP);

    // Act
    const plan = planProjectFiles(files, {}, PREVIEW_SANDBOX_FACTS);

    // Assert
    expect(envOf(plan, '__VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS')?.value).toBe('.<sandbox domain>');
    expect(plan.notes.join('\n')).not.toContain('no sandbox domain known');
  });

  it('allows the domain for a start option that runs Vite too', () => {
    const files = project(VITE_APP);

    const plan = planBuild(files, { startCommand: 'npx vite --host 0.0.0.0 --port $PORT' }, { sandboxDomain: 'agentsphere.run' });

    expect(envOf(plan, '__VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS')?.value).toBe('.agentsphere.run');
  });
});

describe('Next.js', () => {
  it("turns Next's telemetry off for the build and the start", () => {
    const files = project(NEXT_APP);

    const plan = planBuild(files);

    expect(envOf(plan, 'NEXT_TELEMETRY_DISABLED')).toEqual({
      name: 'NEXT_TELEMETRY_DISABLED',
      value: '1',
      reason: 'Next.js sends anonymous usage telemetry unless told not to; this keeps the build and the server from calling its telemetry host',
      phases: ['build', 'start'],
    });
  });

  it('leaves NODE_ENV to Next.js, which sets its own', () => {
    const files = project(NEXT_APP);

    const plan = planBuild(files);

    expect(envOf(plan, 'NODE_ENV')).toBeUndefined();
  });

  it('notes next/font/google, whose build downloads fonts', () => {
    const files = project({ ...NEXT_APP, 'app/layout.tsx': 'import { Geist } from "next/font/google";\n' });

    const plan = planBuild(files);

    expect(plan.notes).toContain(
      'app/layout.tsx uses next/font/google: `next build` downloads the fonts from fonts.googleapis.com and fails if the sandbox cannot reach it (next/font/local avoids that)',
    );
  });
});

describe('NODE_ENV', () => {
  it('sets NODE_ENV=production for the detected start of a Node server only', () => {
    const files = project(EXPRESS_APP);

    const plan = planBuild(files);

    expect(envOf(plan, 'NODE_ENV')).toEqual({
      name: 'NODE_ENV',
      value: 'production',
      reason: 'the app runs in production mode (Express and others cache views and hide stack traces); set for the start only, so the install still gets the devDependencies',
      phases: ['start'],
    });
  });

  it("leaves NODE_ENV alone when the start is the caller's own command", () => {
    const files = project(EXPRESS_APP);

    const plan = planBuild(files, { startCommand: 'npm run dev' });

    expect(envOf(plan, 'NODE_ENV')).toBeUndefined();
  });

  it('leaves NODE_ENV alone for the static file server', () => {
    const files = project({ 'index.html': '' });

    const plan = planBuild(files);

    expect(envOf(plan, 'NODE_ENV')).toBeUndefined();
  });
});

describe('fastify-cli', () => {
  it('makes `fastify start` listen on every interface', () => {
    const files = project({ 'package.json': { scripts: { start: 'fastify start -l info app.js' }, dependencies: { fastify: '5.6.0', 'fastify-cli': '8.0.2' } } });

    const plan = planBuild(files);

    expect(envOf(plan, 'FASTIFY_ADDRESS')).toEqual({
      name: 'FASTIFY_ADDRESS',
      value: '0.0.0.0',
      reason: "fastify-cli's `fastify start` listens on localhost only unless given an address; this makes it listen on every interface",
      phases: ['start'],
    });
  });
});
