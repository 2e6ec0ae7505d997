/** S3 on this machine: s3rver in-process, storing objects under a directory. */
import { createRequire } from 'node:module';

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
  return { endpoint: `http://127.0.0.1:${port}`, createdObjects: () => created, close: () => server.close() };
}
