/**
 * The invariant every end-to-end test file ends with: the sandboxes alive at the provider are
 * exactly the sandboxes of active records: no sandbox without an active record, no active record
 * without a sandbox, and no record left in a saga step. "Alive at the provider" is read three
 * ways that must agree: the host's operator API over HTTP, its in-memory registry, and the
 * machine's real process table (every process running as a sandbox uid belongs to a live
 * sandbox of a lease). It fails when it cannot see them, rather than passing on an empty view.
 */
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { expect } from 'vitest';
import { DynamoDbDeploymentRepository } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import { MANAGED_BY } from '../../functions/shared/deployments/app-layout.ts';
import type { Deployment } from '../../functions/shared/deployments/deployment.ts';
import { SandboxLeases, UID_BASE, UID_POOL } from '../../infra/local/sandbox-host/bubblewrap/sandbox-leases.ts';
import type { LocalStack } from '../../infra/local/local-stack.ts';

/** A killed sandbox's processes, uid and cgroups go shortly after the kill answers. */
const SETTLE_MS = 15_000;

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

export async function liveAndActiveSandboxes(stack: LocalStack): Promise<{ live: string[]; active: string[]; inFlight: string[] }> {
  const client = new DynamoDBClient({});
  try {
    const repository = new DynamoDbDeploymentRepository({ client, tableName: process.env.DEPLOYMENTS_TABLE! });
    const active = await allPages((nextToken) => repository.listActiveExpiringBefore(new Date('9999-12-31'), { nextToken }));
    const inFlight = await allPages((nextToken) => repository.listInFlightSince(new Date('9999-12-31'), { nextToken }));
    const live = (await hostSandboxes(stack)).filter((sandbox) => sandbox.metadata.managedBy === MANAGED_BY);
    return {
      live: live.map((sandbox) => sandbox.sandboxId).sort(),
      active: active.map((deployment) => deployment.sandboxId!).sort(),
      inFlight: inFlight.map((deployment) => `${deployment.deploymentId} ${deployment.status}`),
    };
  } finally {
    client.destroy();
  }
}

interface HostSandbox {
  sandboxId: string;
  metadata: Record<string, string>;
  processes: { pid: number }[];
}

/** The sandboxes the host reports over its operator API; the in-memory registry must say the same. */
async function hostSandboxes(stack: LocalStack): Promise<HostSandbox[]> {
  if (!stack.sandboxHost) throw new Error('no-leak invariant: this stack has no local sandbox host to look at');
  const host = stack.sandboxHost;
  const response = await fetch(`${host.url}/_host/sandboxes`, { headers: { authorization: `Bearer ${host.operatorKey}` } });
  if (!response.ok) throw new Error(`no-leak invariant: the host's operator API answered ${response.status}`);
  const reported = (await response.json()) as HostSandbox[];
  const registered = host.registry.list().map((sandbox) => sandbox.fullId).sort();
  expect(reported.map((sandbox) => sandbox.sandboxId).sort(), "the host's operator API vs its registry").toEqual(registered);
  return reported;
}

interface SandboxProcess {
  pid: number;
  uid: number;
  command: string;
}

/** Every process on the machine running as a sandbox uid, from /proc. */
async function sandboxProcesses(): Promise<SandboxProcess[]> {
  const entries = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  if (entries.length === 0) throw new Error('no-leak invariant: /proc lists no processes');
  const found: SandboxProcess[] = [];
  for (const name of entries) {
    // A process may exit between the listing and the read.
    const status = await readFile(`/proc/${name}/status`, 'utf8').catch(() => undefined);
    const uid = Number(status?.match(/^Uid:\s+(\d+)/m)?.[1]);
    if (!(uid >= UID_BASE && uid < UID_BASE + UID_POOL)) continue;
    const command = (await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ').trim();
    found.push({ pid: Number(name), uid, command });
  }
  return found;
}

/** What the machine itself shows that the host's answers do not explain. */
async function machineLeaks(stack: LocalStack): Promise<string[]> {
  const live = await hostSandboxes(stack);
  const liveIds = new Set(live.map((sandbox) => sandbox.sandboxId));
  const leases = await new SandboxLeases().list();
  const leaseOfUid = new Map(leases.map((lease) => [lease.uid, lease]));
  const processes = await sandboxProcesses();
  const problems: string[] = [];
  for (const process of processes) {
    const lease = leaseOfUid.get(process.uid);
    // A lease exists before any process of its uid (a claim is written first), so none is a leak.
    if (!lease) problems.push(`process ${process.pid} (${process.command}) runs as sandbox uid ${process.uid}, which no lease names`);
    else if (isOurs(lease) && !isLive(lease.sandboxId, liveIds)) {
      problems.push(`process ${process.pid} (${process.command}) of ended sandbox ${lease.sandboxId} still runs`);
    }
  }
  for (const lease of leases.filter(isOurs)) {
    if (!isLive(lease.sandboxId, liveIds)) problems.push(`sandbox ${lease.sandboxId} ended but still holds uid ${lease.uid} and its cgroups`);
  }
  // The host says a sandbox runs processes: the machine must show them, or this view is blind.
  for (const sandbox of live.filter((candidate) => candidate.processes.length > 0)) {
    const lease = leases.find((candidate) => isOurs(candidate) && isLive(candidate.sandboxId, new Set([sandbox.sandboxId])));
    if (!lease) problems.push(`no lease names live sandbox ${sandbox.sandboxId}: its processes cannot be told apart (is the host isolating with bubblewrap, as root?)`);
    else if (!processes.some((process) => process.uid === lease.uid)) {
      problems.push(`the process table shows no process of sandbox ${sandbox.sandboxId}, whose host lists ${sandbox.processes.length}`);
    }
  }
  return problems;
}

/** Leases of this process's host (other test files run hosts of their own at the same time). */
function isOurs(lease: { owner: { pid: number } }): boolean {
  return lease.owner.pid === process.pid;
}

/** A lease names a sandbox by its id; the host reports the id with its client suffix. */
function isLive(sandboxId: string, liveIds: ReadonlySet<string>): boolean {
  return [...liveIds].some((id) => id === sandboxId || id.startsWith(`${sandboxId}-`));
}

export async function expectNoLeaks(stack: LocalStack, { settleMs = SETTLE_MS }: { settleMs?: number } = {}): Promise<void> {
  const { live, active, inFlight } = await liveAndActiveSandboxes(stack);
  expect(live, 'live sandboxes at the provider vs sandboxes of active records').toEqual(active);
  expect(inFlight, 'records still in a saga step').toEqual([]);
  let problems = await machineLeaks(stack);
  for (const deadline = Date.now() + settleMs; problems.length > 0 && Date.now() < deadline; problems = await machineLeaks(stack)) await sleep(250);
  expect(problems, 'what the machine shows beyond the live sandboxes').toEqual([]);
}
