/**
 * The dependency cache (in the staging bucket), built once per Lambda container. Its URLs are
 * used by sandboxes, which may reach S3 at another address than the functions do: set
 * SANDBOX_S3_ENDPOINT_URL to sign them for that endpoint (the cloud leaves it unset).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3DependencyCache } from '../adapters/s3-dependency-cache.ts';

let client: S3Client | undefined;
let presignClient: S3Client | undefined;

function forcePathStyle(): boolean {
  return process.env.S3_FORCE_PATH_STYLE === 'true';
}

function s3Client(): S3Client {
  client ??= new S3Client({ forcePathStyle: forcePathStyle() });
  return client;
}

/**
 * No checksum of the (empty) body in a presigned PUT (S3 would hold the archive's bytes against
 * it), and no checksum mode asked of a GET: curl checks nothing but the status.
 */
function s3PresignClient(): S3Client {
  const endpoint = process.env.SANDBOX_S3_ENDPOINT_URL;
  presignClient ??= new S3Client({ forcePathStyle: forcePathStyle(), requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED', ...(endpoint ? { endpoint } : {}) });
  return presignClient;
}

export function dependencyCache(): S3DependencyCache {
  return new S3DependencyCache({ client: s3Client(), presignClient: s3PresignClient(), bucket: process.env.STAGING_BUCKET ?? '' });
}
