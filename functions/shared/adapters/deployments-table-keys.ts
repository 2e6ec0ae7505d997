/**
 * The deployments table's keys: index names and key attributes (the CDK stack declares the same
 * from here), and how each kind of item is keyed. One table holds the deployment records, the
 * sandboxes' ownership items, the sweep's claims and cursors, quotas and event histories.
 */
/** Index names and key attributes; the CDK stack declares the same. */
export const DEPLOYMENTS_TABLE_KEYS = {
  partitionKey: 'pk',
  sortKey: 'sk',
  byOwnerIndex: 'byOwner',
  byOwnerProjectIndex: 'byOwnerProject',
  activeByExpiryIndex: 'activeByExpiry',
  inFlightIndex: 'inFlight',
  activeByOwnerIndex: 'activeByOwner',
  timeToLive: 'ttl',
} as const;

/** The partition of a deployment record. */
export function primaryKey(deploymentId: string) {
  return { pk: `DEPLOYMENT#${deploymentId}`, sk: 'DEPLOYMENT' };
}

/** Which deployment owns a sandbox (written by the first redeploy of it, or by its create step). */
export function ownershipKey(sandboxId: string) {
  return { pk: `SANDBOX#${sandboxId}`, sk: 'OWNER' };
}

export function ownerKey(userId: string): string {
  return `USER#${userId}`;
}

export function ownerProjectKey(userId: string, projectId: string): string {
  return `USER#${userId}#PROJECT#${projectId}`;
}
