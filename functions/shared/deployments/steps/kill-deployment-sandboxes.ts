import type { SandboxProvider } from '../../sandbox/sandbox-provider.ts';

/**
 * Kills the deployment's recorded sandbox and any other the provider knows for it (one a
 * create step made but could not record). Returns the ids killed.
 */
export async function killDeploymentSandboxes(sandboxes: SandboxProvider, deploymentId: string, recordedSandboxId?: string): Promise<string[]> {
  const listed = (await sandboxes.list({ deploymentId })).map((sandbox) => sandbox.sandboxId);
  const ids = [...new Set([...(recordedSandboxId ? [recordedSandboxId] : []), ...listed])];
  await Promise.all(ids.map((sandboxId) => sandboxes.kill(sandboxId)));
  return ids;
}
