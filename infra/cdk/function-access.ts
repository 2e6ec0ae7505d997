/**
 * What each function's code really calls, as IAM sees it: read from the adapters under
 * functions/shared/adapters and the steps each handler runs. The CDK grant helpers give more
 * (grantReadWriteData adds Scan, DeleteItem, BatchWriteItem and every index; the bucket's
 * grantRead/grantPut add s3:GetBucket*, s3:List*, s3:Abort* and object tagging). A handler that
 * starts making a new call needs its line here.
 */
import { DEPLOYMENTS_TABLE_KEYS } from '../../functions/shared/adapters/dynamodb-deployment-repository.ts';
import type { HandlerName } from './handlers.ts';

/**
 * Item calls on the deployments table (DynamoDbDeploymentRepository): get and getCursor are
 * GetItem (transition reads too when its condition fails); create, claim and putCursor are
 * PutItem; transition, transitionFrom, update and recordBatch are UpdateItem.
 */
export type DeploymentItemAction = 'GetItem' | 'PutItem' | 'UpdateItem';

export type DeploymentIndex = (typeof DEPLOYMENTS_TABLE_KEYS)['byOwnerIndex' | 'byOwnerProjectIndex' | 'activeByExpiryIndex' | 'inFlightIndex'];

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
  /** Powertools idempotency records (POST /deployments with an Idempotency-Key). */
  idempotencyRecords?: boolean;
  /** Starts the deployment saga (SfnWorkflows.start). */
  startsExecutions?: boolean;
  /** Reads an execution's status (SfnWorkflows.status). */
  describesExecutions?: boolean;
  /** Calls AgentSphere, so reads its API key secret. */
  sandboxes?: boolean;
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
    queriedIndexes: OWNER_INDEXES,
    staging: ['put', 'deleteAll'],
    blobs: ['get'],
    idempotencyRecords: true,
    startsExecutions: true,
    sandboxes: true,
  },
  // completeUpload: head/read/delete the staged parts, copy them into chunks, update the index,
  // stage the writes, read the live sandbox's record of its files, start the saga.
  apiCompleteDeployment: {
    deploymentItems: READ_UPDATE,
    queriedIndexes: OWNER_INDEXES,
    staging: ['put', 'get', 'deleteAll'],
    blobs: ['get', 'put'],
    startsExecutions: true,
    sandboxes: true,
  },
  apiGetDeployment: { deploymentItems: READ },
  // terminateDeployment (endDeployment): save the logs, kill, record, delete the staged files.
  apiDeleteDeployment: { deploymentItems: READ_UPDATE, staging: ['deleteAll'], savedLogs: ['put'], sandboxes: true },
  apiListDeployments: { queriedIndexes: OWNER_INDEXES },
  apiListSandboxes: { queriedIndexes: OWNER_INDEXES },
  apiKeepalive: { deploymentItems: READ_UPDATE, sandboxes: true },
  apiDeploymentHealth: { deploymentItems: READ, sandboxes: true },
  // Live logs from the sandbox; once ended, the saved ones.
  apiDeploymentLogs: { deploymentItems: READ, savedLogs: ['get'], sandboxes: true },
  apiOpenApi: {},
  create: { deploymentItems: READ_UPDATE, staging: ['get'], sandboxes: true },
  // A manifest deployment's batch streams chunk ranges of the owner's blobs.
  uploadBatch: { deploymentItems: READ_UPDATE, staging: ['get'], blobs: ['get'], sandboxes: true },
  start: { deploymentItems: READ_UPDATE, staging: ['get'], sandboxes: true },
  health: { deploymentItems: READ_UPDATE, staging: ['deleteAll'], sandboxes: true },
  kill: { deploymentItems: READ_UPDATE, staging: ['deleteAll'], savedLogs: ['put'], sandboxes: true },
  executionStatusChange: { deploymentItems: READ_UPDATE, staging: ['deleteAll'], savedLogs: ['put'], sandboxes: true },
  // The sweep also keeps its claims and cursors in the table (PutItem).
  sweep: {
    deploymentItems: READ_PUT_UPDATE,
    queriedIndexes: SWEEP_INDEXES,
    staging: ['deleteAll'],
    savedLogs: ['put'],
    describesExecutions: true,
    sandboxes: true,
  },
};
