/**
 * The S3 API operation a path-style request names (`/bucket/key?query`), the way S3 bills it:
 * by operation, with PUT, COPY, POST and LIST requests in one price tier, GET, HEAD and the rest
 * in another, and DELETE free.
 */

export type S3PriceTier = 'write' | 'read' | 'free';

export interface S3RequestLine {
  method: string;
  /** The request target as received: path and query. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export function s3Operation({ method, url, headers }: S3RequestLine): string {
  const parsed = new URL(url, 'http://s3.local');
  const [bucket = '', ...keyParts] = parsed.pathname.slice(1).split('/');
  const hasKey = keyParts.join('/') !== '';
  const query = parsed.searchParams;
  const verb = method.toUpperCase();
  if (verb === 'OPTIONS') return 'PreflightRequest';
  if (!bucket) return verb === 'GET' ? 'ListBuckets' : `${verb} /`;
  if (!hasKey) {
    if (verb === 'GET') return query.has('uploads') ? 'ListMultipartUploads' : query.get('list-type') === '2' ? 'ListObjectsV2' : query.size === 0 || isListQuery(query) ? 'ListObjects' : `GetBucket${subresource(query)}`;
    if (verb === 'HEAD') return 'HeadBucket';
    if (verb === 'PUT') return query.size === 0 ? 'CreateBucket' : `PutBucket${subresource(query)}`;
    if (verb === 'DELETE') return query.size === 0 ? 'DeleteBucket' : `DeleteBucket${subresource(query)}`;
    if (verb === 'POST') return query.has('delete') ? 'DeleteObjects' : 'PostObject';
    return `${verb} bucket`;
  }
  if (verb === 'GET') return query.has('uploadId') ? 'ListParts' : query.has('tagging') ? 'GetObjectTagging' : query.has('acl') ? 'GetObjectAcl' : 'GetObject';
  if (verb === 'HEAD') return 'HeadObject';
  if (verb === 'PUT') {
    const copy = headers['x-amz-copy-source'] !== undefined;
    if (query.has('partNumber') && query.has('uploadId')) return copy ? 'UploadPartCopy' : 'UploadPart';
    if (query.has('tagging')) return 'PutObjectTagging';
    if (query.has('acl')) return 'PutObjectAcl';
    return copy ? 'CopyObject' : 'PutObject';
  }
  if (verb === 'POST') {
    if (query.has('uploads')) return 'CreateMultipartUpload';
    if (query.has('uploadId')) return 'CompleteMultipartUpload';
    return 'PostObject';
  }
  if (verb === 'DELETE') return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
  return `${verb} object`;
}

/** S3 Standard's request tiers (see the pricing constants the cost benchmark uses). */
export function s3PriceTier(operation: string): S3PriceTier {
  if (operation.startsWith('Delete') || operation === 'AbortMultipartUpload') return 'free';
  if (/^(Put|Copy|Post|List|Create|Complete|Upload)/.test(operation)) return 'write';
  return 'read';
}

function isListQuery(query: URLSearchParams): boolean {
  return [...query.keys()].every((key) => ['prefix', 'delimiter', 'marker', 'max-keys', 'encoding-type'].includes(key));
}

function subresource(query: URLSearchParams): string {
  const name = [...query.keys()][0] ?? '';
  return name.charAt(0).toUpperCase() + name.slice(1);
}
