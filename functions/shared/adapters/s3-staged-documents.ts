/** Staged documents in the staging bucket, under the deployment's prefix (deleted with its staged files). */
import { GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StagedFilesMissingError } from '../deployments/errors.ts';
import type { StagedDocuments } from '../deployments/manifest/staged-documents.ts';
import { STAGING_KEY_PREFIX } from './s3-file-staging.ts';

export class S3StagedDocuments implements StagedDocuments {
  readonly #client: S3Client;
  readonly #bucket: string;

  constructor(options: { client: S3Client; bucket: string }) {
    this.#client = options.client;
    this.#bucket = options.bucket;
  }

  put(deploymentId: string, name: string, value: unknown): Promise<string> {
    return this.putText(deploymentId, name, JSON.stringify(value));
  }

  async putText(deploymentId: string, name: string, text: string): Promise<string> {
    const key = `${STAGING_KEY_PREFIX}${deploymentId}/${name}`;
    await this.#client.send(new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: text, ContentType: 'application/json' }));
    return key;
  }

  async get<T>(deploymentId: string, name: string): Promise<T> {
    return JSON.parse(await this.getText(`${STAGING_KEY_PREFIX}${deploymentId}/${name}`)) as T;
  }

  async getText(key: string): Promise<string> {
    try {
      const { Body } = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      return await Body!.transformToString('utf8');
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') throw new StagedFilesMissingError(key);
      throw error;
    }
  }
}
