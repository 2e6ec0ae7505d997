/**
 * What each function's code really calls, as IAM sees it: read from the adapters under
 * functions/shared/adapters and the steps each handler runs. The CDK grant helpers give more
 * (grantReadWriteData adds Scan, DeleteItem, BatchWriteItem and every index; the bucket's
 * grantRead/grantPut add s3:GetBucket*, s3:List*, s3:Abort* and object tagging). A handler that
 * starts making a new call needs its line here.
 */
import { DEPLOYMENTS_TABLE_KEYS } from '../../functions/shared/adapters/deployments-table-keys.ts';
import type { HandlerName } from './handlers.ts';

/**
 * Item calls on the deployments table (DynamoDbDeploymentRepository): get, getCursor and ownerOf
 * are GetItem (transition reads too when its condition fails, or to index a newly named
 * sandbox); create, claim, putCursor and recordOwner are PutItem; transition, transitionFrom,
 * update, recordBatch and handOver are UpdateItem.
 */
export type DeploymentItemAction = 'GetItem' | 'PutItem' | 'UpdateItem';

export type DeploymentIndex = (typeof DEPLOYMENTS_TABLE_KEYS)[
  'byOwnerIndex' | 'byOwnerProjectIndex' | 'activeByExpiryIndex' | 'inFlightIndex' | 'activeByOwnerIndex'
];

/** Calls on the staging bucket (S3FileStaging): putBatch/putManifest, getBatch/getManifest, deleteAll (list, then delete). */
export type StagingAccess = 'put' | 'get' | 'deleteAll';

export interface FunctionAccess {
  deploymentItems?: readonly DeploymentItemAction[];
  /** Indexes the function queries (Query). */
  queriedIndexes?: readonly DeploymentIndex[];
  staging?: readonly StagingAccess[];
  /** Logs saved from a sandbox before it was killed (S3LogArchive): save, load. */
  savedLogs?: readonly ('put' | 'get')[];
  /**
   * The owner's blobs (S3BlobStore): 'get' reads the index and chunk ranges; 'put' writes verified
   * chunks (CopyObject from the staged part) and the index.
   */
  blobs?: readonly ('put' | 'get')[];
  /**
   * The owner's dependency cache (S3DependencyCache): HEAD of an entry, and presigned GET and PUT
   * URLs that the sandbox uses (a presigned request acts with this role's permissions).
   */
  dependencyCache?: boolean;
  /** Powertools idempotency records (POST /deployments with an Idempotency-Key). */
  idempotencyRecords?: boolean;
  /** Starts the deployment saga (SfnWorkflows.start). */
  startsExecutions?: boolean;
  /** Reads an execution's status (SfnWorkflows.status). */
  describesExecutions?: boolean;
  /** Calls AgentSphere, so reads its API key secret. */
  sandboxes?: boolean;
  /** Per-user quota items (DynamoDbQuotaStore): read (limits, usage), or write (take, transfer, give back slots; count starts). */
  quotas?: 'read' | 'write';
  /**
   * Changes statuses, so publishes each change (PublishingDeploymentRepository): PutEvents on the
   * stack's bus, and PutItem of the event in the deployment's history.
   */
  publishesEvents?: boolean;
  /** Reads a deployment's event history (DynamoDbEventHistory.list): Query on the table, deployment partitions only. */
  readsEventHistory?: boolean;
  /** Reads and writes the users' webhook secrets (DynamoDbWebhookSecrets): GetItem and PutItem on their own table. */
  webhookSecrets?: boolean;
}

/** listByOwner: a caller's history, and a project's when projectId is given. */
const OWNER_INDEXES = [DEPLOYMENTS_TABLE_KEYS.byOwnerIndex, DEPLOYMENTS_TABLE_KEYS.byOwnerProjectIndex] as const;
/** listActiveExpiringBefore and listInFlightSince: the sweep's sparse indexes. */
const SWEEP_INDEXES = [DEPLOYMENTS_TABLE_KEYS.activeByExpiryIndex, DEPLOYMENTS_TABLE_KEYS.inFlightIndex] as const;
const READ: readonly DeploymentItemAction[] = ['GetItem'];
const READ_UPDATE: readonly DeploymentItemAction[] = ['GetItem', 'UpdateItem'];
const READ_PUT_UPDATE: readonly DeploymentItemAction[] = ['GetItem', 'PutItem', 'UpdateItem'];

export const FUNCTION_ACCESS: Record<HandlerName, FunctionAccess> = {
  // submitDeployment: create, stage, start the saga; undo on failure; a redeploy finds its sandbox by owner.
  // A manifest: reads the owner's index (and held blobs the plan reads), stages the pending upload and
  // signs the part URLs (a presigned PUT acts with this role's s3:PutObject on the staging prefix).
  apiCreateDeployment: {
    deploymentItems: READ_PUT_UPDATE,
    // reuse: the caller's live sandboxes of the project.
    queriedIndexes: [DEPLOYMENTS_TABLE_KEYS.activeByOwnerIndex],
    staging: ['put', 'deleteAll'],
    // A submit that fails ends like any failed deployment (no sandbox to save logs from, unless a redeploy took one over).
    savedLogs: ['put'],
    blobs: ['get'],
    idempotencyRecords: true,
    startsExecutions: true,
    sandboxes: true,
    quotas: 'write',
    publishesEvents: true,
  },
  // completeUpload: head/read/delete the staged parts, copy them into chunks, update the index,
  // stage the writes, read the live sandbox's record of its files, start the saga.
  // The redeploy hand-over (the sandbox's ownership item), the quota slot that moves with it, and
  // a failed completion ending like any failed deployment.
  apiCompleteDeployment: {
    deploymentItems: READ_UPDATE,
    queriedIndexes: [DEPLOYMENTS_TABLE_KEYS.activeByOwnerIndex],
    staging: ['put', 'get', 'deleteAll'],
    savedLogs: ['put'],
    blobs: ['get', 'put'],
    startsExecutions: true,
    sandboxes: true,
    quotas: 'write',
    publishesEvents: true,
  },
  apiGetDeployment: { deploymentItems: READ },
  // terminateDeployment (endDeployment): save the logs, kill, record, delete the staged files.
  apiDeleteDeployment: { deploymentItems: READ_UPDATE, staging: ['deleteAll'], savedLogs: ['put'], sandboxes: true, quotas: 'write', publishesEvents: true },
  apiListDeployments: { queriedIndexes: OWNER_INDEXES },
  apiListSandboxes: { queriedIndexes: [DEPLOYMENTS_TABLE_KEYS.activeByOwnerIndex] },
  apiKeepalive: { deploymentItems: READ_UPDATE, sandboxes: true, quotas: 'read' },
  apiDeploymentHealth: { deploymentItems: READ, sandboxes: true },
  // Live logs from the sandbox; once ended, the saved ones.
  apiDeploymentLogs: { deploymentItems: READ, savedLogs: ['get'], sandboxes: true },
  apiDeploymentEvents: { deploymentItems: READ, readsEventHistory: true },
  apiGetWebhookSecret: { webhookSecrets: true },
  apiRotateWebhookSecret: { webhookSecrets: true },
  apiOpenApi: {},
  // The caller's limits and usage; stale slots are given back on the way (their holders ended).
  apiQuotas: { deploymentItems: READ, quotas: 'write' },
  // The sandbox's ownership item is written when the sandbox is created (PutItem).
  create: { deploymentItems: READ_PUT_UPDATE, staging: ['get'], sandboxes: true, publishesEvents: true },
  // A manifest deployment's batch streams chunk ranges of the owner's blobs.
  uploadBatch: { deploymentItems: READ_UPDATE, staging: ['get'], blobs: ['get'], sandboxes: true },
  // The dependency cache: looks an entry up and signs the sandbox's GET (restore) and PUT (save).
  start: { deploymentItems: READ_UPDATE, staging: ['get'], dependencyCache: true, sandboxes: true, publishesEvents: true },
  health: { deploymentItems: READ_UPDATE, staging: ['deleteAll'], sandboxes: true, quotas: 'write', publishesEvents: true },
  kill: { deploymentItems: READ_UPDATE, staging: ['deleteAll'], savedLogs: ['put'], sandboxes: true, quotas: 'write', publishesEvents: true },
  executionStatusChange: { deploymentItems: READ_UPDATE, staging: ['deleteAll'], savedLogs: ['put'], sandboxes: true, quotas: 'write', publishesEvents: true },
  // Signs with the owner's secret (made on first use) and POSTs; it reads no deployment.
  deliverWebhook: { webhookSecrets: true },
  // The sweep also keeps its claims and cursors in the table (PutItem).
  sweep: {
    deploymentItems: READ_PUT_UPDATE,
    queriedIndexes: SWEEP_INDEXES,
    staging: ['deleteAll'],
    savedLogs: ['put'],
    describesExecutions: true,
    sandboxes: true,
    quotas: 'write',
    publishesEvents: true,
  },
};
