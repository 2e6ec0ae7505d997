/**
 * The invariant every end-to-end test file ends with, read from the real components:
 * - the sandboxes alive at the provider, as the sandbox host's own operator listing says over
 *   HTTP (and its in-memory registry agrees), are exactly the sandboxes of active records: no
 *   sandbox without an active record, no active record without a sandbox;
 * - no record is left in a saga step;
 * - the real process table holds no process of a sandbox the host says is gone, nothing in a
 *   sandbox's pid namespace that cannot be attributed, and shows every live sandbox.
 * It fails loudly when it cannot see (no sandbox host, an unreadable listing or /proc, a live
 * sandbox it cannot find): it never passes for not looking. State settles asynchronously (a kill
 * in progress), so it is read again for a few seconds before it fails.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { DynamoDbDeploymentRepository } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import { MANAGED_BY } from '../../functions/shared/deployments/app-layout.ts';
import type { Deployment } from '../../functions/shared/deployments/deployment.ts';
import type { LocalStack } from '../../infra/local/local-stack.ts';
import { readProcessTable } from './process-table.ts';
import { readSandboxHostListing, type ListedSandbox } from './sandbox-host-listing.ts';
import { attributeSandboxProcesses, type SandboxProcessReport } from './sandbox-processes.ts';

/** What the invariant needs of a sandbox host: the interfaces that stay whatever its launcher. */
export interface SandboxHostView {
  /** Where its operator API answers (`/_host/sandboxes`). */
  url: string;
  /** Its operator key, for hosts that require one. */
  operatorKey?: string;
  /** Its in-memory registry, when it runs in this process. */
  registry?: { list(): { fullId: string }[] };
  /** The process the host runs in (default: this one). */
  pid?: number;
}

export interface NoLeakOptions {
  /** How long to wait for the state to settle before failing (default 5 s). */
  settleMs?: number;
  procDir?: string;
}

export interface SandboxHostReport {
  listed: ListedSandbox[];
  /** Set when the in-memory registry and the operator listing disagree. */
  registryMismatch?: { registry: string[]; listing: string[] };
  processes: SandboxProcessReport;
}

/** The host's listing and what the process table says of its sandboxes, as read now. */
export async function readSandboxHost(host: SandboxHostView, options: Pick<NoLeakOptions, 'procDir'> = {}): Promise<SandboxHostReport> {
  const listed = await readSandboxHostListing(host);
  const listing = listed.map((sandbox) => sandbox.sandboxId).sort();
  const registry = host.registry?.list().map((sandbox) => sandbox.fullId).sort();
  const table = await readProcessTable(options.procDir ? { procDir: options.procDir } : {});
  return {
    listed,
    ...(registry && JSON.stringify(registry) !== JSON.stringify(listing) ? { registryMismatch: { registry, listing } } : {}),
    processes: attributeSandboxProcesses(table, host.pid ?? process.pid, listed),
  };
}

/** Fails unless no process of a gone sandbox is left and every live sandbox is visible. */
export async function expectNoSandboxProcessLeaks(host: SandboxHostView, options: NoLeakOptions = {}): Promise<SandboxHostReport> {
  const report = await settled(() => readSandboxHost(host, options), (read) => hostProblems(read).length === 0, options.settleMs);
  assertHost(report);
  return report;
}

export async function expectNoLeaks(stack: LocalStack, options: NoLeakOptions = {}): Promise<void> {
  const host = stack.sandboxHost;
  if (!host) throw new Error('the no-leak invariant needs the local sandbox host of the stack (stack.sandboxHost), and this stack has none');
  const view: SandboxHostView = { url: host.url, registry: host.registry, ...operatorKeyOf(host) };
  const read = async () => ({ host: await readSandboxHost(view, options), records: await activeRecords() });
  const state = await settled(read, ({ host: hostReport, records }) => hostProblems(hostReport).length === 0 && recordProblems(hostReport, records).length === 0, options.settleMs);
  assertHost(state.host);
  const live = liveManaged(state.host.listed);
  expect(live, 'live sandboxes at the provider (the host listing) vs sandboxes of active records').toEqual(state.records.active.map((record) => record.sandboxId!).sort());
  expect(state.records.inFlight.map((record) => `${record.deploymentId} ${record.status}`), 'records still in a saga step').toEqual([]);
}

/** The host's operator key, on hosts that have one (the isolating launcher's). */
function operatorKeyOf(host: object): { operatorKey?: string } {
  const key = (host as { operatorKey?: unknown }).operatorKey;
  return typeof key === 'string' ? { operatorKey: key } : {};
}

function hostProblems(report: SandboxHostReport): string[] {
  const { processes } = report;
  return [
    ...(report.registryMismatch ? ['registry and listing disagree'] : []),
    ...processes.leftBehind.map((leak) => `process ${leak.pid} of gone sandbox ${leak.sandboxId}`),
    ...processes.unattributed.map((leak) => `unattributed process ${leak.pid}`),
    ...processes.invisible.map((id) => `invisible sandbox ${id}`),
  ];
}

function assertHost(report: SandboxHostReport): void {
  expect(report.registryMismatch, "the host's in-memory registry vs its operator listing").toBeUndefined();
  expect(report.processes.leftBehind, 'processes of sandboxes the host says are gone (the real process table)').toEqual([]);
  expect(report.processes.unattributed, "processes in a sandbox's pid namespace that belong to no sandbox").toEqual([]);
  expect(report.processes.invisible, 'live sandboxes of which the process table shows no process: the invariant cannot see them').toEqual([]);
}

interface Records {
  active: Deployment[];
  inFlight: Deployment[];
}

function recordProblems(report: SandboxHostReport, records: Records): string[] {
  const live = liveManaged(report.listed);
  const active = records.active.map((record) => record.sandboxId!).sort();
  return [...(JSON.stringify(live) !== JSON.stringify(active) ? ['live vs active'] : []), ...records.inFlight.map((record) => `${record.deploymentId} in flight`)];
}

function liveManaged(listed: readonly ListedSandbox[]): string[] {
  return listed.filter((sandbox) => sandbox.metadata.managedBy === MANAGED_BY).map((sandbox) => sandbox.sandboxId).sort();
}

async function activeRecords(): Promise<Records> {
  const client = new DynamoDBClient({});
  try {
    const repository = new DynamoDbDeploymentRepository({ client, tableName: process.env.DEPLOYMENTS_TABLE! });
    const far = new Date('9999-12-31');
    return {
      active: await allPages((nextToken) => repository.listActiveExpiringBefore(far, nextToken ? { nextToken } : {})),
      inFlight: await allPages((nextToken) => repository.listInFlightSince(far, nextToken ? { nextToken } : {})),
    };
  } finally {
    client.destroy();
  }
}

async function allPages(read: (nextToken?: string) => Promise<{ items: Deployment[]; nextToken?: string }>): Promise<Deployment[]> {
  const items: Deployment[] = [];
  let nextToken: string | undefined;
  do {
    const page = await read(nextToken);
    items.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  return items;
}

/** Reads until `done` holds or the time is up; the last reading either way. Read errors are not retried. */
async function settled<T>(read: () => Promise<T>, done: (value: T) => boolean, settleMs = 5_000): Promise<T> {
  const deadline = Date.now() + settleMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() >= deadline) return value;
    await sleep(100);
  }
}
