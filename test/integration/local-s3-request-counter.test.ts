/**
 * The local S3 server counts every request it receives by S3 operation, whoever sends it (the
 * AWS SDK, a presigned URL): what the cost benchmark reads. Counted at the server, so the
 * production adapters carry no hooks.
 */
import { CompleteMultipartUploadCommand, CreateMultipartUploadCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../infra/local/aws/local-s3.ts';

const BUCKET = 'counted-bucket';
let directory: string;
let s3: LocalS3;
let client: S3Client;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'local-s3-counter-'));
  s3 = await startLocalS3({ directory, buckets: [BUCKET] });
  client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
});

afterAll(async () => {
  client?.destroy();
  await s3?.close();
  await rm(directory, { recursive: true, force: true });
});

beforeEach(() => {
  s3.resetRequests();
});

describe('the local S3 request counter', () => {
  it('counts each request by operation', async () => {
    // Act
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/one.json', Body: '{}' }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'a/two.json', Body: '{}' }));
    await (await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/one.json' }))).Body!.transformToString();
    await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'a/two.json' }));
    await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'a/' }));
    await client.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Objects: [{ Key: 'a/one.json' }, { Key: 'a/two.json' }] } }));

    // Assert
    expect(Object.fromEntries(s3.requests())).toEqual({ PutObject: 2, GetObject: 1, HeadObject: 1, ListObjectsV2: 1, DeleteObjects: 1 });
  });

  it('counts a multipart upload as its create, parts and completion', async () => {
    // Act
    const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: 'big.bin' }));
    const part = await client.send(new UploadPartCommand({ Bucket: BUCKET, Key: 'big.bin', UploadId, PartNumber: 1, Body: Buffer.alloc(1024, 1) }));
    await client.send(new CompleteMultipartUploadCommand({ Bucket: BUCKET, Key: 'big.bin', UploadId, MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] } }));

    // Assert
    expect(Object.fromEntries(s3.requests())).toEqual({ CreateMultipartUpload: 1, UploadPart: 1, CompleteMultipartUpload: 1 });
  });

  it('counts a presigned PUT from a plain HTTP client, and a request S3 refuses', async () => {
    // Prepare
    const url = await getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned.txt' }), { expiresIn: 60 });
    s3.resetRequests();

    // Act
    const put = await fetch(url, { method: 'PUT', body: 'hello' });
    const missing = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'no-such-key' })).catch((error: Error) => error.name);

    // Assert
    expect(put.status).toBe(200);
    expect(missing).toBe('NoSuchKey');
    expect(Object.fromEntries(s3.requests())).toEqual({ PutObject: 1, GetObject: 1 });
  });

  it('starts from zero after a reset', async () => {
    // Prepare
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'reset.json', Body: '{}' }));

    // Act
    s3.resetRequests();
    await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'reset.json' }));

    // Assert
    expect(Object.fromEntries(s3.requests())).toEqual({ HeadObject: 1 });
  });
});
