/**
 * The saga's happy path run step by step against the fake ports, as the state machine would run
 * it for a started execution: create, every batch, start, then health until healthy.
 */
import { checkHealth } from '../../../functions/shared/deployments/steps/check-health.ts';
import { createSandbox } from '../../../functions/shared/deployments/steps/create-sandbox.ts';
import { startApp } from '../../../functions/shared/deployments/steps/start-app.ts';
import { uploadBatch } from '../../../functions/shared/deployments/steps/upload-batch.ts';
import type { Deployment } from '../../../functions/shared/deployments/deployment.ts';
import type { FakePorts } from './fake-ports.ts';

export async function runSagaSteps(ports: FakePorts, deploymentId: string): Promise<Deployment> {
  const input = ports.workflows.inputOf(deploymentId);
  if (!input) throw new Error(`no execution was started for ${deploymentId}`);
  const dependencies = ports.dependencies;
  await createSandbox(dependencies, deploymentId);
  for (const batch of input.batches) await uploadBatch(dependencies, { deploymentId, batch });
  await startApp(dependencies, deploymentId, { installTimeoutMs: 60_000, buildTimeoutMs: 60_000, healthTimeoutSeconds: 60 });
  const health = await checkHealth(dependencies, deploymentId, { probe: { fetch: ports.sandboxes.fetch }, maxInvocationMs: 2_000 });
  if (!health.healthy) throw new Error(`deployment ${deploymentId} did not become healthy: ${JSON.stringify(health.probe)}`);
  ports.workflows.setState(deploymentId, 'SUCCEEDED');
  return (await ports.deployments.get(deploymentId))!;
}
