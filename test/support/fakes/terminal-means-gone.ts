/**
 * Watches the invariant "terminal means gone" as it happens: at the moment a record becomes
 * FAILED, TERMINATED, EXPIRED or LOST, the provider has no live sandbox that record owns: one
 * whose ownership item names it, or, without an item, one its record names or that carries its
 * id (the creator owns a sandbox nobody took over). A sandbox it handed to a redeploy is not its.
 */
import { isTerminal } from '../../../functions/shared/deployments/deployment-status.ts';
import type { Deployment } from '../../../functions/shared/deployments/deployment.ts';
import type { FakeSandbox } from './fake-sandbox.ts';
import type { FakePorts } from './fake-ports.ts';

export interface TerminalWatch {
  /** Every record that became terminal, with the sandboxes it owned that were alive at that moment. */
  observed: { deploymentId: string; status: string; liveSandboxes: string[] }[];
  violations(): string[];
}

export function watchTerminalMeansGone(ports: Pick<FakePorts, 'deployments' | 'sandboxes' | 'ownership'>): TerminalWatch {
  const observed: TerminalWatch['observed'] = [];
  ports.deployments.onChange(({ before, after }) => {
    if (!isTerminal(after.status) || (before && isTerminal(before.status))) return;
    const live = ports.sandboxes
      .live()
      .filter((sandbox) => owns(ports, after, sandbox))
      .map((sandbox) => sandbox.sandboxId);
    observed.push({ deploymentId: after.deploymentId, status: after.status, liveSandboxes: live });
  });
  return {
    observed,
    violations: () =>
      observed.filter((entry) => entry.liveSandboxes.length > 0).map((entry) => `${entry.deploymentId} became ${entry.status} with ${entry.liveSandboxes.join(', ')} alive`),
  };
}

function owns(ports: Pick<FakePorts, 'ownership'>, record: Deployment, sandbox: FakeSandbox): boolean {
  const owner = ports.ownership.itemOf(sandbox.sandboxId)?.owner;
  if (owner !== undefined) return owner === record.deploymentId;
  return sandbox.metadata.deploymentId === record.deploymentId || sandbox.sandboxId === record.sandboxId;
}
