/**
 * The sandbox daemon (`https://49983-<id>.<domain>`): health, files over plain HTTP and the
 * Connect-RPC services. A sandbox that is gone is answered with 502, as the cloud's edge does.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalSandbox } from './local-sandbox.ts';
import {
  ConnectError,
  decodeRequestMessage,
  isStreamingRequest,
  sendUnary,
  sendUnaryError,
  ServerStream,
} from './connect-rpc.ts';
import { streamMethods, unaryMethods, type RpcContext } from './envd-rpc.ts';
import { readFileEndpoint, writeFilesEndpoint } from './envd-files.ts';
import { HttpError, readBody, sendError } from './http-util.ts';
import { SandboxEndedError } from './process-launcher.ts';

export const ENVD_PORT = 49983;

export async function handleDaemon(sandbox: LocalSandbox | undefined, request: IncomingMessage, response: ServerResponse): Promise<void> {
  if (!sandbox) return sendError(response, 502, 'sandbox not found or no longer running');
  if (sandbox.accessToken && request.headers['x-access-token'] !== sandbox.accessToken) {
    return sendError(response, 401, 'invalid or missing access token');
  }
  const url = new URL(request.url ?? '/', 'http://envd');
  const method = request.method ?? 'GET';
  if (url.pathname === '/health' && method === 'GET') {
    response.writeHead(204);
    return void response.end();
  }
  if (url.pathname === '/files') {
    assertUser(url.searchParams.get('username'));
    if (method === 'GET') return readFileEndpoint(sandbox, url, response);
    if (method === 'POST') return writeFilesEndpoint(sandbox, url, request, response);
  }
  const rpcName = url.pathname.slice(1);
  if (method === 'POST' && (rpcName in unaryMethods || rpcName in streamMethods)) {
    return handleRpc(sandbox, rpcName, request, response);
  }
  throw new HttpError(404, `no route ${method} ${url.pathname}`);
}

async function handleRpc(sandbox: LocalSandbox, rpcName: string, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const streaming = isStreamingRequest(request);
  const context: RpcContext = {
    sandbox,
    timeoutMs: positiveNumber(request.headers['connect-timeout-ms']),
    keepaliveSeconds: positiveNumber(request.headers['keepalive-ping-interval']),
  };
  const streamMethod = streamMethods[rpcName];
  if (streaming && streamMethod) {
    const stream = new ServerStream(response);
    try {
      const message = decodeRequestMessage(await readBody(request), true) as Record<string, unknown>;
      await streamMethod(context, message, stream);
    } catch (error) {
      stream.end(asConnectError(error));
    }
    return;
  }
  const unaryMethod = unaryMethods[rpcName];
  if (!unaryMethod) return sendUnaryError(response, new ConnectError('unimplemented', `${rpcName} must be called as a ${streaming ? 'unary call' : 'stream'}`));
  try {
    const message = decodeRequestMessage(await readBody(request), false) as Record<string, unknown>;
    sendUnary(response, await unaryMethod(context, message));
  } catch (error) {
    sendUnaryError(response, asConnectError(error));
  }
}

function asConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  // What the SDK reads as "the sandbox is probably not running anymore".
  if (error instanceof SandboxEndedError) return new ConnectError('unavailable', error.message);
  return new ConnectError('internal', error instanceof Error ? error.message : String(error));
}

function assertUser(username: string | null): void {
  if (username && username !== 'user' && username !== 'root') throw new HttpError(400, `unknown user '${username}'`);
}

function positiveNumber(header: string | string[] | undefined): number | null {
  const value = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(value) && value > 0 ? value : null;
}
