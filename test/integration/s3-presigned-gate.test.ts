/**
 * The local S3 as sandboxes reach it: s3rver itself serves any object to anyone (it checks no V4
 * signature), the gate in front of it only what a valid presigned URL names, within its prefixes.
 */
import { PutObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalS3, type LocalS3 } from '../../infra/local/aws/local-s3.ts';
import { startS3PresignedGate, type S3PresignedGate } from '../../infra/local/aws/s3-presigned-gate.ts';

const BUCKET = 'gate-test-bucket';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const OWN = 'dependency-cache/owner-a/key-a.tar.zst';
const OTHER = 'dependency-cache/owner-b/key-b.tar.zst';
let directory: string;
let s3: LocalS3;
let gate: S3PresignedGate;
let direct: S3Client;
let viaGate: S3Client;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'coderunner-gate-'));
  s3 = await startLocalS3({ directory, buckets: [BUCKET] });
  gate = await startS3PresignedGate({ upstream: s3.endpoint, credentials: CREDENTIALS, pathPrefixes: [`/${BUCKET}/dependency-cache/`] });
  const settings = { region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } as const;
  direct = new S3Client({ ...settings, endpoint: s3.endpoint });
  viaGate = new S3Client({ ...settings, endpoint: gate.endpoint });
  await direct.send(new PutObjectCommand({ Bucket: BUCKET, Key: OTHER, Body: 'secret of owner b' }));
});

afterAll(async () => {
  await gate?.close();
  await s3?.close();
  if (directory) await rm(directory, { recursive: true, force: true });
});

describe('the presigned-URL gate in front of s3rver', () => {
  it('is needed: s3rver serves an object to a request with no signature at all', async () => {
    // Act
    const answer = await fetch(`${s3.endpoint}/${BUCKET}/${OTHER}`);

    // Assert
    expect(answer.status).toBe(200);
    expect(await answer.text()).toBe('secret of owner b');
  });

  it('stores and serves an object through presigned PUT and GET URLs', async () => {
    // Prepare
    const put = await getSignedUrl(viaGate, new PutObjectCommand({ Bucket: BUCKET, Key: OWN }), { expiresIn: 300 });
    const get = await getSignedUrl(viaGate, new GetObjectCommand({ Bucket: BUCKET, Key: OWN }), { expiresIn: 300 });

    // Act
    const stored = await fetch(put, { method: 'PUT', body: 'archive bytes' });
    const read = await fetch(get);

    // Assert
    expect(stored.status).toBe(200);
    expect(read.status).toBe(200);
    expect(await read.text()).toBe('archive bytes');
  });

  it('refuses another key with a URL signed for one, and a request without a signature', async () => {
    // Prepare
    const get = await getSignedUrl(viaGate, new GetObjectCommand({ Bucket: BUCKET, Key: OWN }), { expiresIn: 300 });

    // Act
    const forged = await fetch(get.replace('owner-a/key-a', 'owner-b/key-b'));
    const unsigned = await fetch(`${gate.endpoint}/${BUCKET}/${OTHER}`);

    // Assert
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('the signature does not match');
    expect(unsigned.status).toBe(403);
    expect(gate.decisions().slice(-2).map((decision) => decision.status)).toEqual([403, 403]);
  });

  it('ends its request to s3rver when the client goes away mid-upload, so that both still close', async () => {
    // Prepare
    const ownDirectory = await mkdtemp(join(tmpdir(), 'coderunner-gate-cut-'));
    const ownS3 = await startLocalS3({ directory: ownDirectory, buckets: [BUCKET] });
    const ownGate = await startS3PresignedGate({ upstream: ownS3.endpoint, credentials: CREDENTIALS, pathPrefixes: [`/${BUCKET}/dependency-cache/`] });
    const client = new S3Client({ region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', endpoint: ownGate.endpoint });
    const put = new URL(await getSignedUrl(client, new PutObjectCommand({ Bucket: BUCKET, Key: OWN }), { expiresIn: 300 }));
    client.destroy();

    // Act: half of the declared body, then the client is gone.
    const upload = httpRequest({ host: '127.0.0.1', port: put.port, method: 'PUT', path: `${put.pathname}${put.search}`, headers: { 'content-length': 1_000_000 } });
    upload.on('error', () => undefined);
    upload.write(Buffer.alloc(500_000));
    while (ownGate.inFlight() === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    upload.destroy();
    while (ownGate.inFlight() > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    await ownGate.close();
    await ownS3.close();
    await rm(ownDirectory, { recursive: true, force: true });

    // Assert: nothing is left waiting (a request left hanging at s3rver would keep its close waiting).
    expect(ownGate.inFlight()).toBe(0);
    expect(ownGate.decisions().map((decision) => decision.status)).not.toContain(200);
  });

  it('refuses a validly signed URL outside its prefixes, and methods other than GET, HEAD and PUT', async () => {
    // Prepare
    const outside = await getSignedUrl(viaGate, new GetObjectCommand({ Bucket: BUCKET, Key: 'deployments/some-id/manifest.json' }), { expiresIn: 300 });

    // Act
    const read = await fetch(outside);
    const deleted = await fetch(`${gate.endpoint}/${BUCKET}/${OWN}`, { method: 'DELETE' });

    // Assert
    expect(read.status).toBe(403);
    expect(await read.text()).toContain('is outside what sandboxes may reach');
    expect(deleted.status).toBe(403);
  });
});
