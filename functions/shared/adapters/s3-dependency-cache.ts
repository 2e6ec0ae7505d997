/**
 * The dependency cache in the staging bucket: `dependency-cache/<owner>/<key>.tar.zst` (or
 * `.tar.gz`), one archive of an install's node_modules per owner and key. `<owner>` is the hash
 * the blob store uses, so owners never share a prefix and no owner can name another's entry.
 * The sandbox GETs and PUTs the archive through presigned URLs; this adapter only looks an
 * entry up and signs. The bucket's lifecycle rule deletes entries some days after they were saved.
 */
import { GetObjectCommand, HeadObjectCommand, NotFound, PutObjectCommand, S3ServiceException, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { DependencyArchiveFormat } from '../deployments/dependency-cache/archive-format.ts';
import type { DependencyCache, DependencyCacheEntry } from '../deployments/ports.ts';
import { ownerKey } from './s3-blob-store.ts';

/** Where entries live in the bucket (the stack's IAM policies and lifecycle rule are scoped to it). */
export const DEPENDENCY_CACHE_PREFIX = 'dependency-cache/';

export interface S3DependencyCacheOptions {
  client: S3Client;
  /**
   * Signs the URLs: a client that adds no checksum of its own, with the S3 endpoint as the
   * sandboxes reach it (when that differs from the functions' own).
   */
  presignClient?: S3Client;
  bucket: string;
}

export function dependencyCacheObjectKey(owner: string, key: string, format: DependencyArchiveFormat): string {
  return `${DEPENDENCY_CACHE_PREFIX}${ownerKey(owner)}/${key}.${format}`;
}

export class S3DependencyCache implements DependencyCache {
  readonly #client: S3Client;
  readonly #presignClient: S3Client;
  readonly #bucket: string;

  constructor(options: S3DependencyCacheOptions) {
    this.#client = options.client;
    this.#presignClient = options.presignClient ?? options.client;
    this.#bucket = options.bucket;
  }

  async find(owner: string, key: string, format: DependencyArchiveFormat): Promise<DependencyCacheEntry | undefined> {
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: dependencyCacheObjectKey(owner, key, format) }));
      return { bytes: head.ContentLength ?? 0 };
    } catch (error) {
      if (isAbsent(error)) return undefined;
      throw error;
    }
  }

  restoreUrl(owner: string, key: string, format: DependencyArchiveFormat, expiresInSeconds: number): Promise<string> {
    const command = new GetObjectCommand({ Bucket: this.#bucket, Key: dependencyCacheObjectKey(owner, key, format) });
    return getSignedUrl(this.#presignClient, command, { expiresIn: expiresInSeconds });
  }

  saveUrl(owner: string, key: string, format: DependencyArchiveFormat, expiresInSeconds: number): Promise<string> {
    const command = new PutObjectCommand({ Bucket: this.#bucket, Key: dependencyCacheObjectKey(owner, key, format) });
    return getSignedUrl(this.#presignClient, command, { expiresIn: expiresInSeconds });
  }
}

/**
 * A HEAD of a missing key answers 404 to a caller that may list the prefix and 403 to one that
 * may not; both mean there is no entry this function can use.
 */
function isAbsent(error: unknown): boolean {
  if (error instanceof NotFound || (error as Error).name === 'NotFound' || (error as Error).name === 'NoSuchKey') return true;
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return status === 404 || status === 403;
}
