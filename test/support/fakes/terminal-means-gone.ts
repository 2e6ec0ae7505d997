/**
 * Watches the invariant "terminal means gone" as it happens: at the moment a record becomes
 * FAILED, TERMINATED, EXPIRED or LOST, the provider has no live sandbox for it (neither the one
 * it names nor any carrying its id). A record that hands its sandbox on (replacedBy) is exempt.
 */
import { isTerminal } from '../../../functions/shared/deployments/deployment-status.ts';
import type { FakePorts } from './fake-ports.ts';

export interface TerminalWatch {
  /** Every record that became terminal, with the sandboxes alive at that moment. */
  observed: { deploymentId: string; status: string; liveSandboxes: string[] }[];
  violations(): string[];
}

export function watchTerminalMeansGone(ports: Pick<FakePorts, 'deployments' | 'sandboxes'>): TerminalWatch {
  const observed: TerminalWatch['observed'] = [];
  ports.deployments.onChange(({ before, after }) => {
    if (!isTerminal(after.status) || (before && isTerminal(before.status)) || after.replacedBy) return;
    const live = ports.sandboxes
      .live()
      .filter((sandbox) => sandbox.metadata.deploymentId === after.deploymentId || sandbox.sandboxId === after.sandboxId)
      .map((sandbox) => sandbox.sandboxId);
    observed.push({ deploymentId: after.deploymentId, status: after.status, liveSandboxes: live });
  });
  return {
    observed,
    violations: () =>
      observed.filter((entry) => entry.liveSandboxes.length > 0).map((entry) => `${entry.deploymentId} became ${entry.status} with ${entry.liveSandboxes.join(', ')} alive`),
  };
}
