/** What a manifest deployment keeps between its POST and its completion call (a staged document). */
import type { StoredBlob, UploadPart } from './blob-store.ts';

export const PENDING_UPLOAD_DOCUMENT = 'pending-upload.json';
export const SYNC_DOCUMENT = 'sync.json';
export const APP_FILES_DOCUMENT = 'app-files.json';

export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
  mode: number;
}

export interface PendingUpload {
  files: ManifestFile[];
  parts: UploadPart[];
  /** Blobs of the manifest the owner held at POST time, with their locations. */
  held: [string, StoredBlob][];
  redeploy: { sandboxId?: string; reuse?: boolean };
}

/** What the takeover of a live sandbox does before the writes (staged at completion). */
export interface SyncPlan {
  /** false: the sandbox has no record of its files, so the app directory is emptied as for inline contents. */
  incremental: boolean;
  remove: string[];
}

/** One batch of the write phase: files with their blob ranges, written in ONE request. */
export interface BlobBatch {
  files: (ManifestFile & { segments: StoredBlob['segments'] })[];
  /** The first batch also writes the sandbox's record of its files (APP_FILES_PATH). */
  appFilesKey?: string;
}

/** The SHA-256 of no bytes: an empty file needs no upload. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
