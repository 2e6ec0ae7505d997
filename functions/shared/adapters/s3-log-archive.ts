/**
 * Saved logs in S3, one gzipped JSON object per deployment under `logs/`, in the staging bucket
 * (its lifecycle rule for that prefix expires them).
 */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { LogArchive, SavedLogs } from '../deployments/ports.ts';

export const SAVED_LOGS_PREFIX = 'logs/';

export interface S3LogArchiveOptions {
  client: S3Client;
  bucket: string;
  prefix?: string;
}

export class S3LogArchive implements LogArchive {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(options: S3LogArchiveOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ?? SAVED_LOGS_PREFIX;
  }

  async save(deploymentId: string, logs: SavedLogs): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: this.#key(deploymentId),
        Body: gzipSync(JSON.stringify(logs)),
        ContentType: 'application/gzip',
      }),
    );
  }

  async load(deploymentId: string): Promise<SavedLogs | undefined> {
    try {
      const { Body } = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(deploymentId) }));
      return JSON.parse(gunzipSync(await Body!.transformToByteArray()).toString('utf8')) as SavedLogs;
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  #key(deploymentId: string): string {
    return `${this.#prefix}${deploymentId}.json.gz`;
  }
}
