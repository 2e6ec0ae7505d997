/** The blob store and staged documents (both in the staging bucket), built once per Lambda container. */
import { S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore } from '../adapters/s3-blob-store.ts';
import { S3StagedDocuments } from '../adapters/s3-staged-documents.ts';
import { uploadSettingsFromEnvironment } from '../deployments/manifest/manifest-limits.ts';

let client: S3Client | undefined;
let presignClient: S3Client | undefined;

function s3Client(): S3Client {
  client ??= new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
  return client;
}

/**
 * The SDK would add a CRC32 of the (empty) body to a presigned PUT, which S3 then checks against
 * the bytes the client sends; the completion call verifies SHA-256 itself.
 */
function s3PresignClient(): S3Client {
  presignClient ??= new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true', requestChecksumCalculation: 'WHEN_REQUIRED' });
  return presignClient;
}

function bucket(): string {
  return process.env.STAGING_BUCKET ?? '';
}

export function blobStore(): S3BlobStore {
  return new S3BlobStore({
    client: s3Client(),
    presignClient: s3PresignClient(),
    bucket: bucket(),
    retentionDays: uploadSettingsFromEnvironment().blobRetentionDays,
  });
}

export function stagedDocuments(): S3StagedDocuments {
  return new S3StagedDocuments({ client: s3Client(), bucket: bucket() });
}
