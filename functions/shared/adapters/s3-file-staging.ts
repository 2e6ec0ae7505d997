/**
 * Staged project files in S3: the API writes them as batch objects, upload steps read one batch
 * each. Only object keys travel through the Step Functions execution (its payload limit is 256 KB).
 * A lifecycle rule on the bucket expires whatever a deployment leaves behind.
 */
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { StagedFilesMissingError } from '../deployments/errors.ts';
import type { DeploymentManifest, FileStaging, StagedBatchRef, StagedFile } from '../deployments/ports.ts';

/** Where staged files live in the bucket (the stack's IAM policies are scoped to it). */
export const STAGING_KEY_PREFIX = 'deployments/';

export interface S3FileStagingOptions {
  client: S3Client;
  bucket: string;
  prefix?: string;
}

interface StoredFile {
  path: string;
  content: string;
}

export class S3FileStaging implements FileStaging {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;

  constructor(options: S3FileStagingOptions) {
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = options.prefix ?? STAGING_KEY_PREFIX;
  }

  async putBatch(deploymentId: string, index: number, files: readonly StagedFile[]): Promise<StagedBatchRef> {
    const key = `${this.#folder(deploymentId)}batch-${String(index).padStart(5, '0')}.json`;
    const stored: StoredFile[] = files.map((file) => ({ path: file.path, content: file.content.toString('base64') }));
    await this.#put(key, JSON.stringify(stored));
    return { index, key, files: files.length, bytes: files.reduce((sum, file) => sum + file.content.length, 0) };
  }

  async getBatch(key: string): Promise<StagedFile[]> {
    const stored = JSON.parse(await this.#get(key)) as StoredFile[];
    return stored.map((file) => ({ path: file.path, content: Buffer.from(file.content, 'base64') }));
  }

  async putManifest(manifest: DeploymentManifest): Promise<void> {
    await this.#put(`${this.#folder(manifest.deploymentId)}manifest.json`, JSON.stringify(manifest));
  }

  async getManifest(deploymentId: string): Promise<DeploymentManifest> {
    return JSON.parse(await this.#get(`${this.#folder(deploymentId)}manifest.json`)) as DeploymentManifest;
  }

  async deleteAll(deploymentId: string): Promise<void> {
    const { Contents = [] } = await this.#client.send(
      new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: this.#folder(deploymentId) }),
    );
    if (Contents.length === 0) return;
    await this.#client.send(
      new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: Contents.map(({ Key }) => ({ Key })) } }),
    );
  }

  #folder(deploymentId: string): string {
    return `${this.#prefix}${deploymentId}/`;
  }

  async #put(key: string, body: string): Promise<void> {
    await this.#client.send(
      new PutObjectCommand({ Bucket: this.#bucket, Key: key, Body: body, ContentType: 'application/json' }),
    );
  }

  async #get(key: string): Promise<string> {
    try {
      const { Body } = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
      return await Body!.transformToString('utf8');
    } catch (error) {
      if (error instanceof NoSuchKey || (error as Error).name === 'NoSuchKey') throw new StagedFilesMissingError(key);
      throw error;
    }
  }
}
