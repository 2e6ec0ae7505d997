/** The local S3 gate's check of presigned URLs, against URLs the AWS SDK signs. */
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { describe, expect, it } from 'vitest';
import { checkPresignedRequest } from '../../../infra/local/aws/presigned-url-check.ts';

const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const HOST = 's3.coderunner.test:4569';
const client = new S3Client({
  region: 'us-east-1',
  endpoint: `http://${HOST}`,
  forcePathStyle: true,
  credentials: CREDENTIALS,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
const KEY = 'dependency-cache/0123abcd/key one~.tar.zst';

/** A signed URL as the request the gate receives: method, target and Host header. */
async function signed(method: 'GET' | 'PUT', key = KEY, expiresIn = 600) {
  const command = method === 'GET' ? new GetObjectCommand({ Bucket: 'coderunner-staging', Key: key }) : new PutObjectCommand({ Bucket: 'coderunner-staging', Key: key });
  const url = new URL(await getSignedUrl(client, command, { expiresIn }));
  return { method, url: `${url.pathname}${url.search}`, headers: { host: url.host } };
}

describe('checkPresignedRequest', () => {
  it('accepts a presigned GET and a presigned PUT as signed', async () => {
    expect(checkPresignedRequest(await signed('GET'), CREDENTIALS)).toEqual({ valid: true });
    expect(checkPresignedRequest(await signed('PUT'), CREDENTIALS)).toEqual({ valid: true });
  });

  it('refuses a request without a signature', () => {
    expect(checkPresignedRequest({ method: 'GET', url: `/coderunner-staging/${KEY}`, headers: { host: HOST } }, CREDENTIALS)).toEqual({
      valid: false,
      reason: 'not a presigned URL (X-Amz-Algorithm=AWS4-HMAC-SHA256 is missing)',
    });
  });

  it("refuses another key with a URL signed for one (another owner's entry)", async () => {
    // Prepare
    const request = await signed('GET');

    // Act
    const check = checkPresignedRequest({ ...request, url: request.url.replace('0123abcd', '4567ef01') }, CREDENTIALS);

    // Assert
    expect(check).toEqual({ valid: false, reason: 'the signature does not match' });
  });

  it('refuses a GET URL used for a PUT, another host, a changed parameter and another secret', async () => {
    // Prepare
    const request = await signed('GET');

    // Act & Assert
    expect(checkPresignedRequest({ ...request, method: 'PUT' }, CREDENTIALS)).toMatchObject({ valid: false, reason: 'the signature does not match' });
    expect(checkPresignedRequest({ ...request, headers: { host: '127.0.0.1:4569' } }, CREDENTIALS)).toMatchObject({ valid: false, reason: 'the signature does not match' });
    expect(checkPresignedRequest({ ...request, url: request.url.replace('x-id=GetObject', 'x-id=PutObject') }, CREDENTIALS)).toMatchObject({ valid: false });
    expect(checkPresignedRequest(request, { ...CREDENTIALS, secretAccessKey: 'other' })).toMatchObject({ valid: false, reason: 'the signature does not match' });
    expect(checkPresignedRequest(request, { ...CREDENTIALS, accessKeyId: 'OTHER' })).toMatchObject({ valid: false, reason: 'the access key is unknown' });
  });

  it('refuses an expired URL', async () => {
    // Prepare
    const request = await signed('GET', KEY, 60);

    // Act
    const check = checkPresignedRequest(request, CREDENTIALS, new Date(Date.now() + 120_000));

    // Assert
    expect(check).toEqual({ valid: false, reason: 'the presigned URL has expired' });
  });

  it('refuses malformed parameters without throwing', () => {
    for (const url of ['/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256', '/b/k?%E0%A4%A', '/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Algorithm=AWS4-HMAC-SHA256']) {
      expect(checkPresignedRequest({ method: 'GET', url, headers: { host: HOST } }, CREDENTIALS).valid, url).toBe(false);
    }
  });
});
