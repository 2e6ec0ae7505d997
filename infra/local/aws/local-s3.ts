/** S3 on this machine: s3rver in-process, storing objects under a directory. */
import { createRequire } from 'node:module';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { s3Operation } from './s3-operation.ts';

const require = createRequire(import.meta.url);

/** One object written (PUT, copy or multipart completion), as s3rver reports it. */
export interface CreatedObject {
  key: string;
  size: number;
  /** 'Put', 'Copy', 'CompleteMultipartUpload'... */
  kind: string;
}

export interface LocalS3 {
  endpoint: string;
  /** Every object written since start (tests count uploads at the server). */
  createdObjects(): readonly CreatedObject[];
  /** Requests answered since start (or the last reset), by S3 operation (`PutObject`, `GetObject`...), 5xx answers left out. */
  requests(): ReadonlyMap<string, number>;
  resetRequests(): void;
  close(): Promise<void>;
}

interface S3rverEvent {
  Records: { eventName: string; s3: { object: { key: string; size: number } } }[];
}

export async function startLocalS3(options: { directory: string; buckets: string[] }): Promise<LocalS3> {
  const S3rver = require('s3rver') as new (options: Record<string, unknown>) => {
    run(): Promise<{ port: number }>;
    close(): Promise<void>;
    on(event: 'event', listener: (event: S3rverEvent) => void): void;
    httpServer: Server;
  };
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: options.directory,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  const created: CreatedObject[] = [];
  server.on('event', (event) => {
    for (const record of event.Records) {
      if (!record.eventName.startsWith('ObjectCreated:')) continue;
      created.push({ key: decodeURIComponent(record.s3.object.key), size: Number(record.s3.object.size), kind: record.eventName.slice('ObjectCreated:'.length) });
    }
  });
  const { port } = await server.run();
  // Counted once answered, 4xx included (S3 bills those too); not a 5xx, which here is s3rver's own
  // fault (e.g. racing deletes in one DeleteObjects) that the SDK retries: S3 would have answered the first.
  const requests = new Map<string, number>();
  server.httpServer.on('request', (request: IncomingMessage, response: ServerResponse) => {
    const operation = s3Operation({ method: request.method ?? 'GET', url: request.url ?? '/', headers: request.headers });
    response.once('finish', () => {
      if (response.statusCode < 500) requests.set(operation, (requests.get(operation) ?? 0) + 1);
    });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    createdObjects: () => created,
    requests: () => requests,
    resetRequests: () => requests.clear(),
    close: () => server.close(),
  };
}
