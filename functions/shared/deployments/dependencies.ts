import type { SandboxProvider } from '../sandbox/sandbox-provider.ts';
import type { DependencyCache, DeploymentRepository, FileStaging, LogArchive, QuotaStore, SandboxOwnership, Workflows } from './ports.ts';

/** Everything deployment code talks to, handed in by the composition root. */
export interface DeploymentDependencies {
  deployments: DeploymentRepository;
  sandboxes: SandboxProvider;
  staging: FileStaging;
  workflows: Workflows;
  logArchive: LogArchive;
  ownership: SandboxOwnership;
  quotas: QuotaStore;
  dependencyCache: DependencyCache;
  now?: () => Date;
}

/**
 * The ports one piece of domain code uses (and the clock): a handler builds only these, so its
 * bundle and its cold start carry only the adapters it calls.
 */
export type Uses<Port extends Exclude<keyof DeploymentDependencies, 'now'>> = Pick<DeploymentDependencies, Port | 'now'>;

export function nowOf(dependencies: Pick<DeploymentDependencies, 'now'>): Date {
  return dependencies.now?.() ?? new Date();
}
