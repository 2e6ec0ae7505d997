import type { Uses } from '../dependencies.ts';
import type { DeploymentDependencies } from '../dependencies.ts';
import type { BlobStore } from './blob-store.ts';
import type { StagedDocuments } from './staged-documents.ts';

/** What manifest code talks to besides the deployment ports. */
export interface ManifestPorts {
  blobs: BlobStore;
  documents: StagedDocuments;
}

export type UsesManifest<Port extends Exclude<keyof DeploymentDependencies, 'now'>> = Uses<Port> & ManifestPorts;
