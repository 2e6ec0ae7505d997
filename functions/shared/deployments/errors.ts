/**
 * Deployment errors. Flat; every class sets a stable `name`: Step Functions Retry/Catch and the
 * recorded failure use it.
 */
import type { DeploymentStatus } from './deployment-status.ts';

export class DeploymentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DeploymentError';
  }
}

export class DeploymentNotFoundError extends DeploymentError {
  constructor(deploymentId: string) {
    super(`deployment ${deploymentId} not found`);
    this.name = 'DeploymentNotFoundError';
  }
}

/** A write lost a race, or the saga tried to move a record that was already moved (e.g. terminated). */
export class IllegalTransitionError extends DeploymentError {
  readonly from: DeploymentStatus;
  readonly to: DeploymentStatus;

  constructor(deploymentId: string, from: DeploymentStatus, to: DeploymentStatus) {
    super(`deployment ${deploymentId} cannot move from ${from} to ${to}`);
    this.name = 'IllegalTransitionError';
    this.from = from;
    this.to = to;
  }
}

export class StagedFilesMissingError extends DeploymentError {
  constructor(key: string) {
    super(`staged object ${key} is missing (expired or never written)`);
    this.name = 'StagedFilesMissingError';
  }
}

export class InstallFailedError extends DeploymentError {
  constructor(message: string) {
    super(message);
    this.name = 'InstallFailedError';
  }
}

export class BuildFailedError extends DeploymentError {
  constructor(message: string) {
    super(message);
    this.name = 'BuildFailedError';
  }
}

export class StartFailedError extends DeploymentError {
  constructor(message: string) {
    super(message);
    this.name = 'StartFailedError';
  }
}

export class AppExitedError extends DeploymentError {
  constructor(message: string) {
    super(message);
    this.name = 'AppExitedError';
  }
}

export class HealthCheckTimeoutError extends DeploymentError {
  constructor(message: string) {
    super(message);
    this.name = 'HealthCheckTimeoutError';
  }
}

/** The app answers, but with a status that will not turn healthy by waiting (403 from a host check, 401...). */
export class AppUnhealthyError extends DeploymentError {
  constructor(message: string) {
    super(message);
    this.name = 'AppUnhealthyError';
  }
}

/** A step would not finish within what is left of its invocation; the state machine retries it. */
export class StepTimeBudgetError extends DeploymentError {
  constructor(message: string) {
    super(message);
    this.name = 'StepTimeBudgetError';
  }
}

/** A saga step found the deployment in a status it does not act on (e.g. terminated meanwhile). */
export class DeploymentStateError extends DeploymentError {
  constructor(deploymentId: string, status: DeploymentStatus, expected: string) {
    super(`deployment ${deploymentId} is ${status}, not ${expected}`);
    this.name = 'DeploymentStateError';
  }
}

export class UploadIncompleteError extends DeploymentError {
  constructor(message: string) {
    super(message);
    this.name = 'UploadIncompleteError';
  }
}

/** A redeploy named a sandbox that is not a live sandbox of the caller's. */
export class SandboxNotReusableError extends DeploymentError {
  readonly statusCode: 404 | 409;

  constructor(message: string, statusCode: 404 | 409) {
    super(message);
    this.name = 'SandboxNotReusableError';
    this.statusCode = statusCode;
  }
}

/** The operation needs the deployment's live sandbox, and there is none. */
export class NoLiveSandboxError extends DeploymentError {
  constructor(message: string) {
    super(message);
    this.name = 'NoLiveSandboxError';
  }
}

export class LifetimeOutOfBoundsError extends DeploymentError {
  constructor(message: string) {
    super(message);
    this.name = 'LifetimeOutOfBoundsError';
  }
}

/** A user reached one of their quotas; the API answers 429 with Retry-After. */
export class QuotaExceededError extends DeploymentError {
  readonly quota: string;
  readonly used: number;
  readonly limit: number;
  readonly retryAfterSeconds: number;

  constructor(message: string, details: { quota: string; used: number; limit: number; retryAfterSeconds: number }) {
    super(message);
    this.name = 'QuotaExceededError';
    this.quota = details.quota;
    this.used = details.used;
    this.limit = details.limit;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}
