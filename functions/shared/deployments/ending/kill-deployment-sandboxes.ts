import type { Deployment } from '../deployment.ts';
import type { Uses } from '../dependencies.ts';

/**
 * Kills the sandboxes a deployment owns: the one its record names, the one a redeploy of it took
 * over, and any other the provider lists with its id (one a create step made but could not
 * record). A sandbox another deployment owns now (a redeploy took it over) is left alone, and so
 * is a sandbox a redeploy did not get as far as taking over. Returns the ids killed.
 */
export async function killDeploymentSandboxes(
  dependencies: Uses<'sandboxes' | 'ownership'>,
  deploymentId: string,
  record?: Pick<Deployment, 'sandboxId' | 'reusedFrom'>,
): Promise<string[]> {
  const { sandboxes, ownership } = dependencies;
  const listed = (await sandboxes.list({ deploymentId })).map((sandbox) => sandbox.sandboxId);
  const taken = record?.reusedFrom?.sandboxId;
  const candidates = [...new Set([...(record?.sandboxId ? [record.sandboxId] : []), ...(taken ? [taken] : []), ...listed])];
  const owned: string[] = [];
  for (const sandboxId of candidates) {
    const owner = await ownership.ownerOf(sandboxId);
    // No ownership recorded: its creator (the metadata's deployment, or the record naming it) owns it.
    const ours = owner === undefined ? sandboxId !== taken : owner === deploymentId;
    if (ours) owned.push(sandboxId);
  }
  await Promise.all(owned.map((sandboxId) => sandboxes.kill(sandboxId)));
  return owned;
}
