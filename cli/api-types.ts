/** The CodeRunner API's shapes as the CLI uses them (see openapi.json). */
import type { BuildPlan } from '../functions/shared/deployments/build-plan/build-plan.ts';

export const STEPS = ['create', 'upload', 'start', 'health'] as const;
export type Step = (typeof STEPS)[number];

export type DeploymentStatus =
  | 'AWAITING_UPLOAD'
  | 'PENDING'
  | 'CREATING'
  | 'UPLOADING'
  | 'STARTING'
  | 'CHECKING_HEALTH'
  | 'RUNNING'
  | 'STOPPING'
  | 'FAILED'
  | 'TERMINATED'
  | 'EXPIRED'
  | 'LOST';

export { TERMINAL_STATUSES } from '../functions/shared/deployments/deployment-status.ts';

export interface RequestFile {
  path: string;
  content: string;
  encoding: 'utf8' | 'base64';
}

export interface AppOptionsInput {
  port?: number;
  installCommand?: string;
  buildCommand?: string;
  startCommand?: string;
  env?: Record<string, string>;
  healthPath?: string;
  timeoutSeconds?: number;
}

export interface DeploymentRequest {
  projectId: string;
  files: RequestFile[];
  options: AppOptionsInput;
  sandboxId?: string;
  reuse?: boolean;
}

export interface DeploymentFailure {
  step: string;
  name: string;
  message: string;
}

export interface DeploymentView {
  deploymentId: string;
  projectId: string;
  status: DeploymentStatus;
  step: Step | null;
  sandboxId: string | null;
  url: string | null;
  error: DeploymentFailure | null;
  progress: { filesUploaded: number; filesTotal: number; batchesTotal: number };
  options: { port: number; installCommand?: string; buildCommand?: string; startCommand: string; healthPath: string; timeoutSeconds: number };
  plan: BuildPlan | null;
  healthyPath?: string | null;
  env?: string[];
  expiresAt: string | null;
  redeployOf: string | null;
  replacedBy?: string | null;
  upload?: UploadSummary | null;
  timestamps: { createdAt: string; updatedAt: string } & Partial<Record<DeploymentStatus, string>>;
}

/** One status change (`GET /deployments/{id}/events`, and the body of a webhook). */
export interface DeploymentEvent {
  eventId: string;
  deploymentId: string;
  projectId: string;
  status: DeploymentStatus;
  previousStatus: DeploymentStatus | null;
  step: string | null;
  sandboxId: string | null;
  url: string | null;
  error: DeploymentFailure | null;
  replacedBy: string | null;
  version: number;
  time: string;
}

/** A manifest deployment's transfer, as the API reports it. */
export interface UploadSummary {
  deadline: string;
  filesInManifest: number;
  blobsToUpload: number;
  bytesToUpload: number;
  bytesHeld: number;
  filesToWrite?: number;
  filesUnchanged?: number;
  filesRemoved?: number;
  incremental?: boolean;
}

export interface ManifestRequest {
  projectId: string;
  manifest: { path: string; size: number; sha256: string; mode: number; content?: string; encoding?: 'utf8' | 'base64' }[];
  options: AppOptionsInput;
  sandboxId?: string;
  reuse?: boolean;
}

/** The answer to a manifest POST: the deployment, awaiting the upload of what the service lacks. */
export interface ManifestAccepted extends Omit<DeploymentView, 'upload'> {
  upload: UploadSummary & {
    partsTotal: number;
    blobs: { sha256: string; size: number }[];
    parts: { partNumber: number; size: number; url: string; pieces: { sha256: string; offset: number; length: number }[] }[];
    complete: string;
  };
}

export interface SandboxView {
  sandboxId: string | null;
  deploymentId: string;
  projectId: string;
  status: DeploymentStatus;
  url: string | null;
  createdAt: string;
  expiresAt: string | null;
}

export interface LiveHealth {
  deploymentId: string;
  status: DeploymentStatus;
  checkedAt: string;
  probe: { healthy: boolean; path: string; statusCode?: number; latencyMs: number; error?: string } | null;
  sandbox: { sandboxId: string | null; alive: boolean } | null;
}

export interface LogEntry {
  timestamp: string;
  source: string;
  line: string;
  timestampSource: string;
}

/** `GET /deployments/{id}/logs`: `saved` when the lines were saved before the sandbox was killed. */
export interface DeploymentLogs {
  lines: LogEntry[];
  saved?: { savedAt: string; endedAs: string };
}

/** `GET /quotas`: the caller's limits and what they use of them now. */
export interface QuotaView {
  limits: { liveSandboxes: number; deploymentsInFlight: number; deploymentsPerMinute: number; maxSandboxLifetimeSeconds: number };
  usage: { liveSandboxes: number; deploymentsInFlight: number; deploymentsPerMinute: number };
}

export interface Page<Item> {
  items: Item[];
  nextToken: string | null;
}

/** A 4xx body: a message and, for validation, one entry per broken rule. */
export interface ProblemBody {
  message?: string;
  errors?: { field: string; rule: string; message?: string }[];
  requestId?: string;
  /** A 429's quota: which one, and how much of it is used. */
  quota?: { name: string; used: number; limit: number };
}
