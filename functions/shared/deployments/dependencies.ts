import type { SandboxProvider } from '../sandbox/sandbox-provider.ts';
import type { DeploymentRepository, FileStaging, LogArchive, Workflows } from './ports.ts';

/** Everything deployment code talks to, handed in by the composition root. */
export interface DeploymentDependencies {
  deployments: DeploymentRepository;
  sandboxes: SandboxProvider;
  staging: FileStaging;
  workflows: Workflows;
  logArchive: LogArchive;
  now?: () => Date;
}

export function nowOf(dependencies: Pick<DeploymentDependencies, 'now'>): Date {
  return dependencies.now?.() ?? new Date();
}
