/**
 * The blob store in the staging bucket:
 * - `deployments/<id>/uploads/part-NNNNN`: what a client PUTs through a presigned URL (expires
 *   with the deployment's staged files);
 * - `blobs/<owner>/chunks/<deploymentId>-NNNNN`: a part once verified, immutable, written only by
 *   the service (a client never holds a URL for it);
 * - `blobs/<owner>/index.json`: the owner's blobs, sha256 -> chunk ranges.
 * `<owner>` is a hash of the caller's id, so any id is a safe key and owners never share a prefix.
 * The bucket's lifecycle deletes chunks some days after they were written; the index forgets them a
 * day before, so a blob it lists outlives any deployment that relies on it.
 * Concurrent index updates of one owner may lose entries (last write wins): a lost entry only
 * means a later upload of that blob, never a wrong one.
 */
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BlobSegment, BlobStore, PartObject, ReadPart, StoredBlob } from '../deployments/manifest/blob-store.ts';
import { STAGING_KEY_PREFIX } from './s3-file-staging.ts';

/** Where blobs live in the bucket (the stack's IAM policies are scoped to it). */
export const BLOB_KEY_PREFIX = 'blobs/';

export interface S3BlobStoreOptions {
  client: S3Client;
  /** Signs the presigned URLs: a client that adds no checksum of its own (see s3PresignClient). */
  presignClient?: S3Client;
  bucket: string;
  retentionDays: number;
  now?: () => Date;
}

interface StoredIndex {
  version: 1;
  /** Chunk key -> when it was written. */
  chunks: Record<string, string>;
  /** sha256 -> size and [key, offset, length] ranges. */
  blobs: Record<string, { size: number; segments: [string, number, number][] }>;
}

const DAY_MS = 24 * 3600 * 1000;

export function ownerKey(owner: string): string {
  return createHash('sha256').update(`owner:${owner}`).digest('hex').slice(0, 40);
}

export function uploadPartKey(deploymentId: string, partNumber: number): string {
  return `${STAGING_KEY_PREFIX}${deploymentId}/uploads/part-${String(partNumber).padStart(5, '0')}`;
}

export class S3BlobStore implements BlobStore {
  readonly #client: S3Client;
  readonly #presignClient: S3Client;
  readonly #bucket: string;
  readonly #retentionDays: number;
  readonly #now: () => Date;

  constructor(options: S3BlobStoreOptions) {
    this.#client = options.client;
    this.#presignClient = options.presignClient ?? options.client;
    this.#bucket = options.bucket;
    this.#retentionDays = options.retentionDays;
    this.#now = options.now ?? (() => new Date());
  }

  async heldBlobs(owner: string): Promise<Map<string, StoredBlob>> {
    const index = this.#fresh(await this.#loadIndex(owner));
    return new Map(
      Object.entries(index.blobs).map(([sha256, blob]) => [
        sha256,
        { size: blob.size, segments: blob.segments.map(([key, offset, length]) => ({ key, offset, length })) },
      ]),
    );
  }

  async recordBlobs(owner: string, blobs: ReadonlyMap<string, StoredBlob>): Promise<void> {
    if (blobs.size === 0) return;
    const index = this.#fresh(await this.#loadIndex(owner));
    const storedAt = this.#now().toISOString();
    for (const [sha256, blob] of blobs) {
      for (const segment of blob.segments) index.chunks[segment.key] ??= storedAt;
      index.blobs[sha256] = { size: blob.size, segments: blob.segments.map((segment) => [segment.key, segment.offset, segment.length]) };
    }
    await this.#client.send(
      new PutObjectCommand({ Bucket: this.#bucket, Key: this.#indexKey(owner), Body: JSON.stringify(index), ContentType: 'application/json' }),
    );
  }

  presignPart(deploymentId: string, partNumber: number, expiresInSeconds: number): Promise<string> {
    const command = new PutObjectCommand({ Bucket: this.#bucket, Key: uploadPartKey(deploymentId, partNumber) });
    return getSignedUrl(this.#presignClient, command, { expiresIn: expiresInSeconds });
  }

  async headPart(deploymentId: string, partNumber: number): Promise<PartObject> {
    try {
      const head = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key: uploadPartKey(deploymentId, partNumber) }));
      return { size: head.ContentLength ?? 0 };
    } catch (error) {
      if (isMissing(error)) return {};
      throw error;
    }
  }

  async readPart(deploymentId: string, partNumber: number): Promise<ReadPart> {
    const answer = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: uploadPartKey(deploymentId, partNumber) }));
    return { body: answer.Body as AsyncIterable<Uint8Array>, etag: answer.ETag ?? '' };
  }

  async promotePart(owner: string, deploymentId: string, partNumber: number, etag: string): Promise<string> {
    const key = `${this.#ownerPrefix(owner)}chunks/${deploymentId}-${String(partNumber).padStart(5, '0')}`;
    await this.#client.send(
      new CopyObjectCommand({
        Bucket: this.#bucket,
        Key: key,
        CopySource: `${this.#bucket}/${uploadPartKey(deploymentId, partNumber)}`,
        ...(etag ? { CopySourceIfMatch: etag } : {}),
      }),
    );
    return key;
  }

  async deletePart(deploymentId: string, partNumber: number): Promise<void> {
    await this.#deleteKeys([uploadPartKey(deploymentId, partNumber)]);
  }

  async deleteChunks(keys: readonly string[]): Promise<void> {
    await this.#deleteKeys(keys);
  }

  async *readSegment(segment: BlobSegment): AsyncIterable<Uint8Array> {
    if (segment.length === 0) return;
    const answer = await this.#client.send(
      new GetObjectCommand({ Bucket: this.#bucket, Key: segment.key, Range: `bytes=${segment.offset}-${segment.offset + segment.length - 1}` }),
    );
    yield* answer.Body as AsyncIterable<Uint8Array>;
  }

  #ownerPrefix(owner: string): string {
    return `${BLOB_KEY_PREFIX}${ownerKey(owner)}/`;
  }

  #indexKey(owner: string): string {
    return `${this.#ownerPrefix(owner)}index.json`;
  }

  async #loadIndex(owner: string): Promise<StoredIndex> {
    try {
      const { Body } = await this.#client.send(new GetObjectCommand({ Bucket: this.#bucket, Key: this.#indexKey(owner) }));
      const parsed = JSON.parse(await Body!.transformToString('utf8')) as StoredIndex;
      return parsed.version === 1 ? parsed : emptyIndex();
    } catch (error) {
      if (isMissing(error)) return emptyIndex();
      throw error;
    }
  }

  /** The index without chunks the lifecycle may delete before a deployment that starts now ends. */
  #fresh(index: StoredIndex): StoredIndex {
    const cutoff = this.#now().getTime() - (this.#retentionDays - 1) * DAY_MS;
    const chunks = Object.fromEntries(Object.entries(index.chunks).filter(([, storedAt]) => new Date(storedAt).getTime() > cutoff));
    const blobs = Object.fromEntries(
      Object.entries(index.blobs).filter(([, blob]) => blob.segments.every(([key]) => chunks[key] !== undefined)),
    );
    return { version: 1, chunks, blobs };
  }

  async #deleteKeys(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 1000) {
      const batch = keys.slice(start, start + 1000);
      await this.#client.send(new DeleteObjectsCommand({ Bucket: this.#bucket, Delete: { Objects: batch.map((Key) => ({ Key })) } }));
    }
  }
}

function emptyIndex(): StoredIndex {
  return { version: 1, chunks: {}, blobs: {} };
}

function isMissing(error: unknown): boolean {
  const name = (error as Error).name;
  return error instanceof NoSuchKey || error instanceof NotFound || name === 'NoSuchKey' || name === 'NotFound';
}
