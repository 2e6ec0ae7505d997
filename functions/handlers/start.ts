/** Saga step: install, build and start the app in the background, as its plan says. */
import * as z from 'zod';
import { startApp } from '../shared/deployments/steps/start-app.ts';
import { stepHandler } from '../shared/middleware/step-handler.ts';
import { deploymentRepository } from '../shared/runtime/deployments-table.ts';
import { sandboxProvider } from '../shared/runtime/sandbox-provider.ts';
import { fileStaging } from '../shared/runtime/staging-bucket.ts';
import { dependencyCache } from '../shared/runtime/dependency-cache.ts';
import { numberEnv } from '../shared/runtime/environment.ts';

const startEvent = z.object({ deploymentId: z.string().min(1), executionArn: z.string().optional() });

export const handler = stepHandler('start', startEvent, async ({ deploymentId }, context) =>
  startApp({ deployments: deploymentRepository(), sandboxes: sandboxProvider(), staging: fileStaging(), dependencyCache: dependencyCache() }, deploymentId, {
    installTimeoutMs: numberEnv('INSTALL_TIMEOUT_SECONDS', 480) * 1000,
    buildTimeoutMs: numberEnv('BUILD_TIMEOUT_SECONDS', 300) * 1000,
    healthTimeoutSeconds: numberEnv('HEALTH_TIMEOUT_SECONDS', 60),
    remainingMs: () => context.getRemainingTimeInMillis(),
  }),
);
