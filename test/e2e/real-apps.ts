/**
 * Shared by the real-app test files: deploy a corpus app through the HTTP API with no options,
 * wait for RUNNING and read its page with curl at the url the API returns.
 */
import { expect } from 'vitest';
import type { ApiClient } from '../support/local-stack-fixture.ts';
import { buildPlanSchema } from '../../functions/shared/api/plan-schema.ts';
import { corpusApp, corpusFiles, curl } from '../support/app-corpus.ts';

/** Install plus build of the heaviest app here (Next.js) takes about a minute on a loaded 2-core machine. */
export const REAL_APP_TIMEOUT_MS = 300_000;

export async function expectDeploysWithNoOptions(api: ApiClient, name: string): Promise<void> {
  // Prepare
  const app = corpusApp(name);
  const files = await corpusFiles(app);

  // Act
  const accepted = await api.deploy({ projectId: `corpus-${app.name}`, files });
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
  const final = await api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED'], REAL_APP_TIMEOUT_MS - 20_000);
  const page = final.status === 'RUNNING' ? await curl(`${final.url}${app.expect.path}`) : undefined;
  await api.delete(accepted.body.deploymentId);

  // Assert
  expect(final.status, `${name}: ${final.error?.message ?? ''}\nplan: ${JSON.stringify(final.plan, null, 1)}`).toBe('RUNNING');
  if (app.plan.install) expect(final.plan.packageManager?.name).toBe(app.packageManager?.split('@')[0]);
  else expect(final.plan.install).toBeUndefined();
  // The plan the API answers is the one its OpenAPI document describes.
  expect(buildPlanSchema.safeParse(final.plan).success).toBe(true);
  expect(page!.status).toBe(200);
  expect(page!.body).toContain(app.expect.text);
}
