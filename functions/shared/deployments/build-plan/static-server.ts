/**
 * The product's static file server, written into the sandbox before a static site starts: a
 * dependency-free Node ES module (Node 18+) that serves one folder on $PORT, on every interface.
 *
 * It streams files with their Content-Type and Content-Length, answers HEAD, serves a folder's
 * index.html, answers a missing file with the site's 404.html when it has one, and refuses paths
 * that leave the folder (`..` segments, or symlinks pointing outside it). One log line per request.
 */

/** Where the plan expects it inside the sandbox (beside the logs, outside the app folder). */
export const STATIC_SERVER_PATH = '/home/user/.coderunner/static-server.mjs';

// Plain JavaScript in a string: no template literals inside, so nothing here is interpolated.
export const STATIC_SERVER_SOURCE = String.raw`// CodeRunner static file server. Usage: node static-server.mjs <folder>; listens on $PORT (default 3000), $HOST (default 0.0.0.0).
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json; charset=utf-8',
  '.xml': 'application/xml; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.pdf': 'application/pdf',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

const root = await realpath(resolve(process.argv[2] || '.'));
const port = Number(process.env.PORT) || 3000;
const host = process.env.HOST || '0.0.0.0';

function isInsideRoot(path) {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/** The real path of a file inside the root, or undefined when it is missing; 'outside' when a symlink leaves the root. */
async function locate(path) {
  let real;
  try {
    real = await realpath(path);
  } catch (error) {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR' || error.code === 'ENAMETOOLONG') return undefined;
    throw error;
  }
  if (!isInsideRoot(real)) return 'outside';
  return { path: real, stats: await stat(real) };
}

function sendText(request, response, status, text, headers) {
  const body = Buffer.from(text + '\n');
  response.writeHead(status, Object.assign({ 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': body.length }, headers));
  response.end(request.method === 'HEAD' ? undefined : body);
}

async function sendFile(request, response, file, status) {
  response.writeHead(status, {
    'Content-Type': TYPES[extname(file.path).toLowerCase()] || 'application/octet-stream',
    'Content-Length': file.stats.size,
    'Last-Modified': file.stats.mtime.toUTCString(),
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
  });
  if (request.method === 'HEAD') {
    response.end();
    return;
  }
  try {
    await pipeline(createReadStream(file.path), response);
  } catch (error) {
    // A client that goes away mid-file is not an error of ours.
    if (error.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
  }
}

async function sendNotFound(request, response) {
  const page = await locate(join(root, '404.html'));
  if (page && page !== 'outside' && page.stats.isFile()) return sendFile(request, response, page, 404);
  return sendText(request, response, 404, 'Not Found');
}

async function handle(request, response) {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return sendText(request, response, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
  }
  const rawUrl = request.url || '/';
  const queryAt = rawUrl.search(/[?#]/);
  const rawPath = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  if (!rawPath.startsWith('/')) return sendText(request, response, 400, 'Bad Request');
  let pathname;
  try {
    pathname = decodeURIComponent(rawPath);
  } catch {
    return sendText(request, response, 400, 'Bad Request');
  }
  const segments = pathname.split('/');
  if (pathname.includes('\0') || segments.includes('..')) return sendText(request, response, 403, 'Forbidden');
  const target = join(root, ...segments);
  if (!isInsideRoot(target)) return sendText(request, response, 403, 'Forbidden');

  const found = await locate(target);
  if (found === 'outside') return sendText(request, response, 403, 'Forbidden');
  if (!found) return sendNotFound(request, response);
  if (found.stats.isDirectory()) {
    if (!rawPath.endsWith('/')) {
      // Relative links in the folder's index.html resolve against the folder only with the slash.
      return sendText(request, response, 301, 'Moved Permanently', { Location: rawPath + '/' + (queryAt === -1 ? '' : rawUrl.slice(queryAt)) });
    }
    const index = await locate(join(found.path, 'index.html'));
    if (index === 'outside') return sendText(request, response, 403, 'Forbidden');
    if (!index || !index.stats.isFile()) return sendNotFound(request, response);
    return sendFile(request, response, index, 200);
  }
  if (!found.stats.isFile()) return sendNotFound(request, response);
  return sendFile(request, response, found, 200);
}

const server = createServer((request, response) => {
  const started = Date.now();
  response.on('close', () => {
    const outcome = response.writableFinished ? '' : ' (aborted)';
    console.log(new Date().toISOString() + ' ' + request.method + ' ' + request.url + ' ' + response.statusCode + ' ' + (Date.now() - started) + 'ms' + outcome);
  });
  handle(request, response).catch((error) => {
    console.error(error);
    if (!response.headersSent) sendText(request, response, 500, 'Internal Server Error');
    else response.destroy();
  });
});

server.listen(port, host, () => {
  console.log('static-server: serving ' + root + ' on http://' + host + ':' + port);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections?.();
  });
}
`;
