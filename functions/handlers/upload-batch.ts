/** Saga step (one Map iteration): write one staged batch of files into the sandbox. */
import * as z from 'zod';
import { uploadBatch } from '../shared/deployments/steps/upload-batch.ts';
import { stepHandler } from '../shared/middleware/step-handler.ts';
import { deploymentRepository } from '../shared/runtime/deployments-table.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { fileStaging } from '../shared/runtime/staging-bucket.ts';
import { uploadBlobBatch } from '../shared/deployments/manifest/upload-blob-batch.ts';
import { blobStore, stagedDocuments } from '../shared/runtime/blob-bucket.ts';

const uploadBatchEvent = z.object({
  deploymentId: z.string().min(1),
  executionArn: z.string().optional(),
  batch: z.object({ index: z.number().int().min(0), key: z.string().min(1) }).loose(),
});

export const handler = stepHandler('upload', uploadBatchEvent, async (event) =>
  // A manifest deployment's batch lists blob ranges; an inline one's holds the contents.
  event.batch.source === 'blobs'
    ? uploadBlobBatch({ deployments: deploymentRepository(), sandboxes: sandboxProvider(), blobs: blobStore(), documents: stagedDocuments() }, event)
    : uploadBatch({ deployments: deploymentRepository(), sandboxes: sandboxProvider(), staging: fileStaging() }, event),
);
