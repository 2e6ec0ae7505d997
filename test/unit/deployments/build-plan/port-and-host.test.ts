/**
 * planBuild's port: the option, a port the start command names, a tool's default when it ignores
 * PORT, a hard-coded listen port in the entry file, else 3000. PORT and HOST are always set.
 */
import { describe, expect, it } from 'vitest';
import { planBuild } from '../../../../functions/shared/deployments/build-plan/build-plan.ts';
import { envOf, project } from './project.ts';

const EXPRESS = { dependencies: { express: '5.1.0' } };

describe('PORT and HOST', () => {
  it('always sets PORT to the plan port and HOST to 0.0.0.0, for every phase', () => {
    // Prepare
    const files = project({ 'server.js': 'require("http").createServer().listen(process.env.PORT)' });

    // Act
    const plan = planBuild(files);

    // Assert
    expect(plan.env.slice(0, 2)).toEqual([
      { name: 'PORT', value: '3000', reason: 'the port the deployment reaches the app on (the default)', phases: ['install', 'build', 'start'] },
      { name: 'HOST', value: '0.0.0.0', reason: 'servers that read HOST listen on every interface, where the sandbox forwards requests', phases: ['install', 'build', 'start'] },
    ]);
  });

  it('defaults to 3000 when the server reads PORT, and says so', () => {
    const files = project({ 'package.json': EXPRESS, 'server.js': 'const port = process.env.PORT || 8080;\napp.listen(port);\n' });

    const plan = planBuild(files);

    expect(plan.port).toEqual({ value: 3000, reason: 'server.js reads PORT: 3000 is the default, set as PORT', source: 'default' });
  });

  it('defaults to 3000 when nothing tells the port', () => {
    const files = project({ 'package.json': EXPRESS, 'server.js': 'module.exports = {}' });

    const plan = planBuild(files);

    expect(plan.port).toEqual({ value: 3000, reason: "no port found in the start command or the server's source: 3000 is the default, set as PORT", source: 'default' });
  });

  it('says that the start command is given $PORT', () => {
    const files = project({ 'package.json': { devDependencies: { vite: '8.3.4' } }, 'index.html': '' });

    const plan = planBuild(files);

    expect(plan.port.reason).toBe('the start command is given $PORT: 3000 is the default, set as PORT');
  });

  it('says that next start listens on PORT', () => {
    const files = project({ 'package.json': { scripts: { build: 'next build', start: 'next start' }, dependencies: { next: '16.4.3' } } });

    const plan = planBuild(files);

    expect(plan.port).toEqual({ value: 3000, reason: 'the start command runs `next start`, which listens on PORT: 3000 is the default, set as PORT', source: 'default' });
  });
});

describe('detected ports', () => {
  it('uses a port hard-coded in listen() of a server that does not read PORT', () => {
    const files = project({ 'package.json': EXPRESS, 'server.js': "const app = require('express')();\napp.listen(8080, () => console.log('up'));\n" });

    const plan = planBuild(files);

    expect(plan.port).toEqual({ value: 8080, reason: 'server.js listens on 8080, hard-coded (it does not read PORT)', source: 'detected' });
    expect(envOf(plan, 'PORT')?.value).toBe('8080');
  });

  it('uses a port constant that the server passes to listen()', () => {
    const files = project({ 'package.json': EXPRESS, 'index.js': 'const PORT = 4000;\napp.listen(PORT);\n' });

    const plan = planBuild(files);

    expect(plan.port.value).toBe(4000);
    expect(plan.port.reason).toBe('index.js listens on 4000, hard-coded (it does not read PORT)');
  });

  it('reads the TypeScript source behind the dist/ file a start script runs', () => {
    const files = project({
      'package.json': { scripts: { build: 'tsc', start: 'node dist/index.js' }, dependencies: { hono: '4.10.4' } },
      'src/index.ts': "serve({\n  fetch: app.fetch,\n  port: 3001\n}, (info) => {})\n",
    });

    const plan = planBuild(files);

    expect(plan.port).toEqual({ value: 3001, reason: 'src/index.ts listens on 3001, hard-coded (it does not read PORT)', source: 'detected' });
  });

  it('ignores a port that is not a listen port, such as a database port', () => {
    const files = project({ 'package.json': EXPRESS, 'server.js': 'const pool = new Pool({ host: "db", port: 5432 });\napp.listen(process.env.PORT);\n' });

    const plan = planBuild(files);

    expect(plan.port.value).toBe(3000);
  });

  it('uses the port a start script names', () => {
    const files = project({ 'package.json': { scripts: { start: 'next start -p 4000' }, dependencies: { next: '16.4.3' } } });

    const plan = planBuild(files);

    expect(plan.port).toEqual({ value: 4000, reason: 'the start command names port 4000 (`npm start => next start -p 4000`)', source: 'detected' });
  });

  it("uses Vite's dev server port when the start option runs vite without a port", () => {
    const files = project({ 'package.json': { devDependencies: { vite: '8.3.4' } } });

    const plan = planBuild(files, { startCommand: 'npx vite --host' });

    expect(plan.port).toEqual({
      value: 5173,
      reason: "options.startCommand runs Vite's dev server, which listens on 5173 when not given a port (`npx vite --host`)",
      source: 'detected',
    });
  });

  it("uses Vite's preview port when the start option runs vite preview without a port", () => {
    const files = project({ 'package.json': { devDependencies: { vite: '8.3.4' } } });

    const plan = planBuild(files, { startCommand: 'npx vite preview' });

    expect(plan.port.value).toBe(4173);
  });

  it('uses a port hard-coded in a Python server', () => {
    const files = project({ 'server.py': "from http.server import HTTPServer\nHTTPServer(('', 8000), Handler).serve_forever()\n" });

    const plan = planBuild(files);

    expect(plan.port).toEqual({ value: 8000, reason: 'server.py listens on 8000, hard-coded (it does not read PORT)', source: 'detected' });
  });

  it("uses Flask's default 5000 for app.run() without a port", () => {
    const files = project({ Procfile: 'web: python3 app.py\n', 'app.py': "from flask import Flask\napp = Flask(__name__)\nif __name__ == '__main__':\n    app.run(host='0.0.0.0')\n" });

    const plan = planBuild(files);

    expect(plan.port.value).toBe(5000);
  });

  it('keeps options.port, and notes a different port the app is seen to listen on', () => {
    const files = project({ 'package.json': EXPRESS, 'server.js': 'app.listen(8080)' });

    const plan = planBuild(files, { port: 3000 });

    expect(plan.port).toEqual({ value: 3000, reason: 'given as options.port', source: 'option' });
    expect(plan.notes).toContain('options.port is 3000, but server.js listens on 8080 (hard-coded)');
  });
});

describe('hosts', () => {
  it("notes Fastify's listen() without a host, which binds 127.0.0.1", () => {
    const files = project({
      'package.json': { scripts: { start: 'node server.js' }, dependencies: { fastify: '5.6.0' } },
      'server.js': "const app = require('fastify')();\napp.listen({ port: process.env.PORT || 3000 });\n",
    });

    const plan = planBuild(files);

    expect(plan.notes).toContain(
      "server.js calls Fastify's listen() without a host, which binds 127.0.0.1 only: the sandbox forwards its port to it, so it is reachable all the same",
    );
  });

  it('says nothing about a Fastify server that listens on 0.0.0.0', () => {
    const files = project({
      'package.json': { scripts: { start: 'node server.js' }, dependencies: { fastify: '5.6.0' } },
      'server.js': "app.listen({ port: Number(process.env.PORT), host: '0.0.0.0' });\n",
    });

    const plan = planBuild(files);

    expect(plan.notes.filter((note) => note.includes('127.0.0.1'))).toEqual([]);
  });

  it('notes a server that listens on localhost only', () => {
    const files = project({ 'package.json': EXPRESS, 'server.js': "app.listen(process.env.PORT, 'localhost');\n" });

    const plan = planBuild(files);

    expect(plan.notes).toContain('server.js listens on 127.0.0.1/localhost only: the sandbox forwards its port to it, so it is reachable all the same');
  });
});
