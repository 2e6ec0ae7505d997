/** Saga step: create the deployment's sandbox. */
import * as z from 'zod';
import { createSandbox } from '../shared/deployments/steps/create-sandbox.ts';
import { stepHandler } from '../shared/middleware/step-handler.ts';
import { deploymentRepository, sandboxOwnership } from '../shared/runtime/deployments-table.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { fileStaging } from '../shared/runtime/staging-bucket.ts';
import { stagedDocuments } from '../shared/runtime/blob-bucket.ts';

const createEvent = z.object({ deploymentId: z.string().min(1), executionArn: z.string().optional() });

export const handler = stepHandler('create', createEvent, async ({ deploymentId }) =>
  createSandbox(
    { deployments: deploymentRepository(), sandboxes: sandboxProvider(), staging: fileStaging(), ownership: sandboxOwnership(), documents: stagedDocuments() },
    deploymentId,
  ),
);
