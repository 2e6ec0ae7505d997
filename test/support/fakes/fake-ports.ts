/**
 * Every port of the deployment domain as an in-memory fake, wired to one clock and one journal:
 * what a saga step, the API's domain code or the sweep is handed in a unit test.
 */
import type { DeploymentDependencies } from '../../../functions/shared/deployments/dependencies.ts';
import type { SweepDependencies } from '../../../functions/shared/deployments/sweep/run-sweep.ts';
import { CallJournal } from './call-journal.ts';
import { FakeClock } from './fake-clock.ts';
import { FakeSandboxProvider } from './fake-sandbox-provider.ts';
import { FakeWorkflows } from './fake-workflows.ts';
import { MemoryDependencyCache } from './memory-dependency-cache.ts';
import { MemoryDeploymentRepository } from './memory-deployment-repository.ts';
import { MemoryFileStaging } from './memory-file-staging.ts';
import { MemoryLogArchive } from './memory-log-archive.ts';
import { MemoryQuotaStore } from './memory-quota-store.ts';
import { MemorySandboxOwnership } from './memory-sandbox-ownership.ts';
import { MemorySweepBookkeeping } from './memory-sweep-bookkeeping.ts';

export interface FakePorts {
  clock: FakeClock;
  journal: CallJournal;
  deployments: MemoryDeploymentRepository;
  bookkeeping: MemorySweepBookkeeping;
  ownership: MemorySandboxOwnership;
  quotas: MemoryQuotaStore;
  staging: MemoryFileStaging;
  workflows: FakeWorkflows;
  sandboxes: FakeSandboxProvider;
  logArchive: MemoryLogArchive;
  dependencyCache: MemoryDependencyCache;
  /** All of the above as the domain code takes them (the clock as `now`). */
  dependencies: SweepDependencies & DeploymentDependencies;
}

export interface FakePortsOptions {
  start?: Date | string;
  /** Let other pending work run before every call, so concurrent callers really interleave. */
  interleave?: boolean;
}

export function createFakePorts(options: FakePortsOptions = {}): FakePorts {
  const clock = new FakeClock(options.start);
  const journal = new CallJournal();
  const shared = { journal, interleave: options.interleave ?? false };
  const deployments = new MemoryDeploymentRepository({ ...shared, now: clock.now });
  const bookkeeping = new MemorySweepBookkeeping({ ...shared, now: clock.now });
  const ownership = new MemorySandboxOwnership(shared);
  const quotas = new MemoryQuotaStore({ ...shared, now: clock.now });
  const staging = new MemoryFileStaging(shared);
  const workflows = new FakeWorkflows(shared);
  const sandboxes = new FakeSandboxProvider({ ...shared, now: clock.now });
  const logArchive = new MemoryLogArchive(shared);
  const dependencyCache = new MemoryDependencyCache(shared);
  return {
    clock,
    journal,
    deployments,
    bookkeeping,
    ownership,
    quotas,
    staging,
    workflows,
    sandboxes,
    logArchive,
    dependencyCache,
    dependencies: { deployments, bookkeeping, ownership, quotas, staging, workflows, sandboxes, logArchive, dependencyCache, now: clock.now },
  };
}
