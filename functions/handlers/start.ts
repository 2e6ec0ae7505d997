/** Saga step: install dependencies and start the app in the background. */
import { z } from 'zod';
import { startApp } from '../shared/deployments/steps/start-app.ts';
import { stepHandler } from '../shared/middleware/step-handler.ts';
import { deploymentDependencies } from '../shared/runtime/dependencies.ts';
import { numberEnv } from '../shared/runtime/environment.ts';

const startEvent = z.object({ deploymentId: z.string().min(1), executionArn: z.string().optional() });

export const handler = stepHandler('start', startEvent, async ({ deploymentId }) =>
  startApp(await deploymentDependencies(), deploymentId, {
    installTimeoutMs: numberEnv('INSTALL_TIMEOUT_SECONDS', 300) * 1000,
    startGraceMs: numberEnv('START_GRACE_MS', 1_500),
    healthTimeoutSeconds: numberEnv('HEALTH_TIMEOUT_SECONDS', 60),
  }),
);
