/**
 * Secrets Manager on this machine: GetSecretValue over the real wire protocol (AWS JSON 1.1), so
 * handlers read the AgentSphere API key the way they do in AWS. A malformed request is answered
 * with the service's 400 error and never stops the endpoint.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const MAX_BODY_BYTES = 64 * 1024;

export interface LocalSecretsManager {
  endpoint: string;
  close(): Promise<void>;
}

class ServiceError extends Error {
  readonly status: number;

  constructor(name: string, message: string, status = 400) {
    super(message);
    this.name = name;
    this.status = status;
  }
}

export async function startLocalSecretsManager(secrets: Record<string, string>): Promise<LocalSecretsManager> {
  const server = createServer((request, response) => {
    answer(secrets, request).then(
      (body) => reply(response, 200, body),
      (error: unknown) => {
        const failure = error instanceof ServiceError ? error : new ServiceError('InternalServiceError', String(error), 500);
        reply(response, failure.status, { __type: failure.name, message: failure.message }, failure.name);
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function answer(secrets: Record<string, string>, request: IncomingMessage): Promise<unknown> {
  const body = await readBody(request);
  const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1];
  if (operation !== 'GetSecretValue') throw new ServiceError('UnknownOperationException', `${operation} is not supported locally`);
  const { SecretId } = parseRequest(body);
  const value = typeof SecretId === 'string' && Object.hasOwn(secrets, SecretId) ? secrets[SecretId] : undefined;
  if (value === undefined) throw new ServiceError('ResourceNotFoundException', `Secrets Manager can't find the specified secret.`);
  return { ARN: SecretId, Name: SecretId, SecretString: value, VersionId: 'local', VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 };
}

function parseRequest(body: string): { SecretId?: unknown } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body || '{}');
  } catch {
    throw new ServiceError('SerializationException', 'the request body is not valid JSON');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ServiceError('SerializationException', 'the request body is not a JSON object');
  return parsed as { SecretId?: unknown };
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new ServiceError('SerializationException', `the request body exceeds ${MAX_BODY_BYTES} bytes`, 413);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply(response: ServerResponse, status: number, body: unknown, errorType?: string): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  response.end(JSON.stringify(body));
}
