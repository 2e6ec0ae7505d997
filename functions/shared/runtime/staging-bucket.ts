/** The staging bucket (S3): staged files and saved logs, built once per Lambda container. */
import { S3Client } from '@aws-sdk/client-s3';
import { S3FileStaging } from '../adapters/s3-file-staging.ts';
import { S3LogArchive } from '../adapters/s3-log-archive.ts';

let client: S3Client | undefined;

function s3Client(): S3Client {
  // Path-style addressing for S3-compatible servers that have no per-bucket host names.
  client ??= new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
  return client;
}

function bucket(): string {
  return process.env.STAGING_BUCKET ?? '';
}

export function fileStaging(): S3FileStaging {
  return new S3FileStaging({ client: s3Client(), bucket: bucket() });
}

export function logArchive(): S3LogArchive {
  return new S3LogArchive({ client: s3Client(), bucket: bucket() });
}
