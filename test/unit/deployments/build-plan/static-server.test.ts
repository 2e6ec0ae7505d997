/**
 * The product's static file server, run for real: its source written to a temporary folder and
 * started with the machine's Node 20 (/usr/bin/node, as in the sandboxes) and the project's
 * Node 24, then asked over HTTP.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STATIC_SERVER_SOURCE } from '../../../../functions/shared/deployments/build-plan/static-server.ts';
import { waitForOutput } from '../../../support/child-output.ts';
import { fixtureFiles } from './project.ts';

const NODES = [
  ['Node 20', '/usr/bin/node', 'v20.'],
  ['Node 24', process.execPath, 'v24.'],
] as const;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw GET/HEAD: node:http sends the path as given, without normalising `..`. */
function ask(port: number, path: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path, method }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body: Buffer.concat(chunks) }));
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe.each(NODES)('the static file server on %s', (_label, node, versionPrefix) => {
  let dir: string;
  let child: ChildProcess;
  let output = '';
  let port: number;
  const png = Buffer.from(fixtureFiles('static-site').find((file) => file.path === 'img/a.png')!.content as Uint8Array);
  const large = randomBytes(3 * 1024 * 1024);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'coderunner-static-'));
    const site = join(dir, 'site');
    await mkdir(join(site, 'img'), { recursive: true });
    await mkdir(join(site, 'docs'), { recursive: true });
    await writeFile(join(dir, 'static-server.mjs'), STATIC_SERVER_SOURCE);
    await writeFile(join(site, 'index.html'), '<h1>home</h1>\n');
    await writeFile(join(site, 'docs', 'index.html'), '<h1>docs</h1>\n');
    await writeFile(join(site, 'img', 'a.png'), png);
    await writeFile(join(site, 'app.wasm'), Buffer.from([0, 97, 115, 109]));
    await writeFile(join(site, 'large.bin'), large);
    await writeFile(join(dir, 'secret.txt'), 'secret\n');
    await symlink(join(dir, 'secret.txt'), join(site, 'leak.txt'));
    port = await freePort();
    child = spawn(node, [join(dir, 'static-server.mjs'), site], { env: { PATH: process.env.PATH, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitForOutput(child, /static-server: serving/, 20_000);
  });

  afterAll(async () => {
    child?.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  });

  it('runs on the Node it is meant for', () => {
    expect(spawnSync(node, ['--version'], { encoding: 'utf8' }).stdout).toMatch(new RegExp(`^${versionPrefix.replace('.', '\\.')}`));
  });

  it('listens on every interface, on $PORT', () => {
    expect(output).toContain(`on http://0.0.0.0:${port}`);
  });

  it("serves the folder's index.html for / as HTML with its length", async () => {
    const answer = await ask(port, '/');

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(answer.headers['content-length']).toBe('14');
    expect(answer.body.toString()).toBe('<h1>home</h1>\n');
  });

  it('serves a PNG byte for byte, as image/png', async () => {
    const answer = await ask(port, '/img/a.png');

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('image/png');
    expect(answer.headers['content-length']).toBe(String(png.length));
    expect(answer.body.equals(png)).toBe(true);
  });

  it('serves wasm as application/wasm', async () => {
    const answer = await ask(port, '/app.wasm');

    expect(answer.headers['content-type']).toBe('application/wasm');
  });

  it('streams a large file whole, with its exact length', async () => {
    const answer = await ask(port, '/large.bin');

    expect(answer.headers['content-length']).toBe(String(large.length));
    expect(answer.body.equals(large)).toBe(true);
  });

  it('answers HEAD with the headers and no body', async () => {
    const answer = await ask(port, '/img/a.png', 'HEAD');

    expect(answer.status).toBe(200);
    expect(answer.headers['content-length']).toBe(String(png.length));
    expect(answer.body.length).toBe(0);
  });

  it("serves a subfolder's index.html, redirecting to the slash first", async () => {
    const redirect = await ask(port, '/docs?x=1');
    const page = await ask(port, '/docs/');

    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe('/docs/?x=1');
    expect(page.body.toString()).toBe('<h1>docs</h1>\n');
  });

  it.each(['/../secret.txt', '/%2e%2e/secret.txt', '/img/..%2f..%2fsecret.txt'])('refuses the traversal %s', async (path) => {
    const answer = await ask(port, path);

    expect(answer.status).toBe(403);
    expect(answer.body.toString()).not.toContain('secret');
  });

  it('refuses a symlink that points outside the folder', async () => {
    const answer = await ask(port, '/leak.txt');

    expect(answer.status).toBe(403);
    expect(answer.body.toString()).not.toContain('secret');
  });

  it('answers 404 for a missing file', async () => {
    const answer = await ask(port, '/missing.html');

    expect(answer.status).toBe(404);
    expect(answer.body.toString()).toBe('Not Found\n');
  });

  it('refuses other methods with 405', async () => {
    const answer = await ask(port, '/', 'POST');

    expect(answer.status).toBe(405);
    expect(answer.headers.allow).toBe('GET, HEAD');
  });

  it('logs one line per request to stdout', async () => {
    await ask(port, '/img/a.png?log-check');

    await expect.poll(() => output, { timeout: 5_000 }).toMatch(/^\S+Z GET \/img\/a\.png\?log-check 200 \d+ms$/m);
  });
});

describe("the static file server with the site's own 404.html", () => {
  it('answers a missing file with 404.html and status 404', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'coderunner-static-404-'));
    await writeFile(join(dir, 'static-server.mjs'), STATIC_SERVER_SOURCE);
    await mkdir(join(dir, 'site'));
    await writeFile(join(dir, 'site', '404.html'), '<h1>lost</h1>');
    const port = await freePort();
    const child = spawn('/usr/bin/node', [join(dir, 'static-server.mjs'), join(dir, 'site')], { env: { PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await waitForOutput(child, /static-server: serving/, 20_000);

      const answer = await ask(port, '/no/such/page');

      expect(answer.status).toBe(404);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.body.toString()).toBe(await readFile(join(dir, 'site', '404.html'), 'utf8'));
    } finally {
      child.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
