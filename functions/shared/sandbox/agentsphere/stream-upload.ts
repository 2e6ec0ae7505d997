/**
 * Writes files into a sandbox as ONE streamed multipart `POST /files` to its daemon. The SDK's
 * `files.write` turns every file into a Blob first (a whole batch in memory); this sends each
 * file's bytes as they come, so memory stays at a few stream buffers whatever the file sizes.
 * The daemon's address and access token come from the SDK's Sandbox object and stay in the adapter.
 * Errors are the SDK's own for the same statuses, so the adapter maps them as it maps the SDK's.
 */
import { randomBytes } from 'node:crypto';
import { AuthenticationError, InvalidArgumentError, NotEnoughSpaceError, NotFoundError, SandboxError, TimeoutError, type Sandbox } from 'agentsphere';
import type { StreamToWrite } from '../sandbox-provider.ts';

export interface DaemonEndpoint {
  /** `https://49983-<sandboxId>.<domain>` */
  url: string;
  accessToken?: string;
}

const USER = 'user';
const encoder = new TextEncoder();

/** The SDK keeps both as TypeScript-private fields of the Sandbox it connected. */
export function daemonEndpoint(sandbox: Sandbox): DaemonEndpoint {
  const fields = sandbox as unknown as { envdApiUrl?: unknown; envdAccessToken?: unknown };
  if (typeof fields.envdApiUrl !== 'string') throw new SandboxError('the SDK Sandbox carries no daemon URL');
  return { url: fields.envdApiUrl, ...(typeof fields.envdAccessToken === 'string' ? { accessToken: fields.envdAccessToken } : {}) };
}

export async function postFileStreams(endpoint: DaemonEndpoint, files: readonly StreamToWrite[], timeoutMs: number): Promise<void> {
  const boundary = `coderunner-${randomBytes(12).toString('hex')}`;
  const body = ReadableStream.from(coalesced(multipartBody(files, boundary)));
  const response = await sendBody(`${endpoint.url}/files?username=${USER}`, {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      authorization: `Basic ${Buffer.from(`${USER}:`).toString('base64')}`,
      ...(endpoint.accessToken ? { 'x-access-token': endpoint.accessToken } : {}),
    },
    body,
    duplex: 'half',
    signal: AbortSignal.timeout(timeoutMs),
  } as RequestInit);
  const text = await response.text();
  if (!response.ok) throw daemonError(response.status, text);
}

/** A source that broke its size promise fails the write as a bad request (not retried), not as "fetch failed". */
async function sendBody(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (error) {
    const cause = (error as Error).cause;
    if (cause instanceof SourceSizeError) throw new InvalidArgumentError(cause.message);
    throw error;
  }
}

class SourceSizeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceSizeError';
  }
}

async function* multipartBody(files: readonly StreamToWrite[], boundary: string): AsyncGenerator<Uint8Array> {
  for (const file of files) {
    yield encoder.encode(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quoteFilename(file.path)}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    );
    let sent = 0;
    for await (const chunk of file.open()) {
      sent += chunk.length;
      if (sent > file.size) throw new SourceSizeError(`${file.path}: its source gave more than the ${file.size} bytes expected`);
      yield chunk;
    }
    if (sent !== file.size) throw new SourceSizeError(`${file.path}: its source gave ${sent} of the ${file.size} bytes expected`);
    yield encoder.encode('\r\n');
  }
  yield encoder.encode(`--${boundary}--\r\n`);
}

/** Fewer, larger chunks (up to 256 KiB): each chunk costs a trip through the stream and the socket. */
async function* coalesced(source: AsyncIterable<Uint8Array>, target = 256 * 1024): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of source) {
    if (chunk.length >= target && size === 0) {
      yield chunk;
      continue;
    }
    pending.push(chunk);
    size += chunk.length;
    if (size >= target) {
      yield Buffer.concat(pending, size);
      pending = [];
      size = 0;
    }
  }
  if (size > 0) yield Buffer.concat(pending, size);
}

/** As undici's FormData writes a file name (what the SDK sends): UTF-8, with '"', CR and LF escaped. */
function quoteFilename(path: string): string {
  return path.replace(/"/g, '%22').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** The daemon's statuses as the SDK reports them for its own file calls. */
function daemonError(status: number, text: string): Error {
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    // not JSON: keep the text
  }
  switch (status) {
    case 400:
      return new InvalidArgumentError(message);
    case 401:
      return new AuthenticationError(message);
    case 404:
      return new NotFoundError(message);
    case 502:
      return new TimeoutError(`${message}: This error is likely due to sandbox timeout.`);
    case 507:
      return new NotEnoughSpaceError(message);
    default:
      return new SandboxError(`${status}: ${message}`);
  }
}
