/**
 * How big a manifest deployment may be: one copy of each limit, read by the API (which enforces
 * it) and the CLI (which checks before hashing and uploading anything). The API's environment can
 * change them (MANIFEST_MAX_*); the CLI's copy then only warns early, the API's answer decides.
 */
export interface ManifestLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
  /** Inline contents (files the build plan reads) in one request, decoded. */
  maxInlineBytes: number;
  /** A file larger than this is never read by the build plan, so never inline. */
  maxInlineFileBytes: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_MANIFEST_LIMITS: ManifestLimits = {
  maxFiles: 20_000,
  maxFileBytes: 100 * MiB,
  maxTotalBytes: 500 * MiB,
  // The manifest of 20,000 files is ~3.5 MB of JSON; a Lambda request takes 6 MB.
  maxInlineBytes: 1 * MiB,
  maxInlineFileBytes: 256 * 1024,
};

/** Transfer settings the API and the CLI agree on through the API's answer (kept here for the defaults). */
export interface UploadSettings {
  /** Bytes of one presigned PUT (a part): small blobs share a part, large ones span several. */
  partBytes: number;
  /** Seconds a deployment may wait in AWAITING_UPLOAD; the presigned URLs expire with it. */
  deadlineSeconds: number;
  /** Days a stored blob stays usable; the bucket's lifecycle deletes it a day later. */
  blobRetentionDays: number;
}

export const DEFAULT_UPLOAD_SETTINGS: UploadSettings = {
  partBytes: 8 * MiB,
  deadlineSeconds: 3_600,
  blobRetentionDays: 7,
};

export function manifestLimitsFromEnvironment(env: NodeJS.ProcessEnv = process.env): ManifestLimits {
  return {
    ...DEFAULT_MANIFEST_LIMITS,
    maxFiles: positive(env.MANIFEST_MAX_FILES, DEFAULT_MANIFEST_LIMITS.maxFiles),
    maxFileBytes: positive(env.MANIFEST_MAX_FILE_BYTES, DEFAULT_MANIFEST_LIMITS.maxFileBytes),
    maxTotalBytes: positive(env.MANIFEST_MAX_TOTAL_BYTES, DEFAULT_MANIFEST_LIMITS.maxTotalBytes),
  };
}

export function uploadSettingsFromEnvironment(env: NodeJS.ProcessEnv = process.env): UploadSettings {
  return {
    partBytes: Math.max(1 * MiB, positive(env.UPLOAD_PART_BYTES, DEFAULT_UPLOAD_SETTINGS.partBytes)),
    deadlineSeconds: positive(env.UPLOAD_DEADLINE_SECONDS, DEFAULT_UPLOAD_SETTINGS.deadlineSeconds),
    blobRetentionDays: positive(env.BLOB_RETENTION_DAYS, DEFAULT_UPLOAD_SETTINGS.blobRetentionDays),
  };
}

function positive(text: string | undefined, fallback: number): number {
  const value = Number(text);
  return text !== undefined && Number.isFinite(value) && value > 0 ? value : fallback;
}
