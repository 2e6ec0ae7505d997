/** The S3 operation and price tier of a path-style request, as the local S3 counter names them. */
import { describe, expect, it } from 'vitest';
import { s3Operation, s3PriceTier } from '../../../infra/local/aws/s3-operation.ts';

const operation = (method: string, url: string, headers: Record<string, string> = {}) => s3Operation({ method, url, headers });

describe('s3Operation', () => {
  it('names object requests', () => {
    expect(operation('PUT', '/bucket/deployments/d1/batches/0.json')).toBe('PutObject');
    expect(operation('GET', '/bucket/a/b.json')).toBe('GetObject');
    expect(operation('HEAD', '/bucket/a')).toBe('HeadObject');
    expect(operation('DELETE', '/bucket/a')).toBe('DeleteObject');
    expect(operation('PUT', '/bucket/copy', { 'x-amz-copy-source': '/bucket/a' })).toBe('CopyObject');
  });

  it('names multipart uploads by their query', () => {
    expect(operation('POST', '/bucket/big?uploads')).toBe('CreateMultipartUpload');
    expect(operation('PUT', '/bucket/big?partNumber=2&uploadId=u1')).toBe('UploadPart');
    expect(operation('POST', '/bucket/big?uploadId=u1')).toBe('CompleteMultipartUpload');
    expect(operation('DELETE', '/bucket/big?uploadId=u1')).toBe('AbortMultipartUpload');
    expect(operation('GET', '/bucket/big?uploadId=u1')).toBe('ListParts');
  });

  it('names bucket requests', () => {
    expect(operation('GET', '/bucket?list-type=2&prefix=deployments%2F')).toBe('ListObjectsV2');
    expect(operation('GET', '/bucket?prefix=a')).toBe('ListObjects');
    expect(operation('POST', '/bucket?delete')).toBe('DeleteObjects');
    expect(operation('HEAD', '/bucket')).toBe('HeadBucket');
    expect(operation('PUT', '/bucket')).toBe('CreateBucket');
    expect(operation('GET', '/')).toBe('ListBuckets');
  });
});

describe('s3PriceTier', () => {
  it('puts PUT, COPY, POST and LIST in the dearer tier, reads in the cheaper one, deletes free', () => {
    expect(['PutObject', 'CopyObject', 'CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload', 'ListObjectsV2', 'PostObject'].map(s3PriceTier)).toEqual(Array(7).fill('write'));
    expect(['GetObject', 'HeadObject', 'HeadBucket', 'PreflightRequest'].map(s3PriceTier)).toEqual(Array(4).fill('read'));
    expect(['DeleteObject', 'DeleteObjects', 'AbortMultipartUpload'].map(s3PriceTier)).toEqual(Array(3).fill('free'));
  });
});
