/**
 * Secrets Manager on this machine: GetSecretValue over the real wire protocol (AWS JSON 1.1), so
 * handlers read the AgentSphere API key the way they do in AWS.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalSecretsManager {
  endpoint: string;
  close(): Promise<void>;
}

export async function startLocalSecretsManager(secrets: Record<string, string>): Promise<LocalSecretsManager> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const reply = (status: number, body: unknown, errorType?: string) => {
        response.writeHead(status, {
          'content-type': 'application/x-amz-json-1.1',
          ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
        });
        response.end(JSON.stringify(body));
      };
      const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1];
      if (operation !== 'GetSecretValue') return reply(400, { __type: 'UnknownOperationException', message: `${operation} is not supported locally` }, 'UnknownOperationException');
      const { SecretId } = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { SecretId?: string };
      const value = SecretId === undefined ? undefined : secrets[SecretId];
      if (value === undefined) {
        return reply(400, { __type: 'ResourceNotFoundException', message: `Secrets Manager can't find the specified secret.` }, 'ResourceNotFoundException');
      }
      reply(200, { ARN: SecretId, Name: SecretId, SecretString: value, VersionId: 'local', VersionStages: ['AWSCURRENT'], CreatedDate: Date.now() / 1000 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
