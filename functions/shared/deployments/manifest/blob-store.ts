/**
 * The content-addressed blob store, in the domain's terms. A blob is a file's content, named by
 * its SHA-256 and held per owner: an owner's lookups never see another owner's blobs. Bytes
 * travel in parts (presigned PUTs of a few MiB: small blobs share one, large ones span several);
 * each verified part becomes an immutable chunk of the owner's, and a blob is the list of chunk
 * ranges that hold its bytes.
 */

/** A byte range of a stored chunk (its S3 key). */
export interface BlobSegment {
  key: string;
  offset: number;
  length: number;
}

/** Where a held blob's bytes are, in order. An empty blob has no segments. */
export interface StoredBlob {
  size: number;
  segments: BlobSegment[];
}

/** Bytes `[offset, offset + length)` of the blob `sha256`, as one piece of a part. */
export interface PartPiece {
  sha256: string;
  offset: number;
  length: number;
}

/** One presigned PUT of an upload: the concatenation of its pieces, in order. */
export interface UploadPart {
  partNumber: number;
  size: number;
  pieces: PartPiece[];
}

export interface PartObject {
  /** undefined when nothing was uploaded for the part. */
  size?: number;
}

export interface ReadPart {
  body: AsyncIterable<Uint8Array>;
  /** The object's version as read, so that promoting it copies exactly what was verified. */
  etag: string;
}

export interface BlobStore {
  /** The owner's usable blobs (young enough to outlive a deployment): sha256 -> location. */
  heldBlobs(owner: string): Promise<Map<string, StoredBlob>>;
  /** Adds verified blobs to the owner's index. */
  recordBlobs(owner: string, blobs: ReadonlyMap<string, StoredBlob>): Promise<void>;
  /** A presigned PUT URL for one part of a deployment's upload, valid for `expiresInSeconds`. */
  presignPart(deploymentId: string, partNumber: number, expiresInSeconds: number): Promise<string>;
  headPart(deploymentId: string, partNumber: number): Promise<PartObject>;
  readPart(deploymentId: string, partNumber: number): Promise<ReadPart>;
  /**
   * Copies a verified part into the owner's chunks, only if it is still the version read
   * (`etag`); returns the chunk's key. S3 supports the condition; a server without it copies anyway.
   */
  promotePart(owner: string, deploymentId: string, partNumber: number, etag: string): Promise<string>;
  deletePart(deploymentId: string, partNumber: number): Promise<void>;
  deleteChunks(keys: readonly string[]): Promise<void>;
  /** The bytes of one segment, streamed. */
  readSegment(segment: BlobSegment): AsyncIterable<Uint8Array>;
}
