/**
 * Structured JSON logs and CloudWatch metrics (EMF) for every handler. Handlers add the
 * deployment id and execution to every log line through the correlate middleware.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'coderunner';

export const logger = new Logger({ serviceName: SERVICE_NAME });

// Its own diagnostics go through the structured logger, errors only: an invocation that emits no
// metric (a health poll, a sweep with nothing to do) is normal, and its warning about that is noise.
export const metrics = new Metrics({ namespace: 'CodeRunner', serviceName: SERVICE_NAME, logger: logger.createChild({ logLevel: 'ERROR' }) });

export const METRIC = {
  deploymentsStarted: 'DeploymentsStarted',
  deploymentsSucceeded: 'DeploymentsSucceeded',
  deploymentsFailed: 'DeploymentsFailed',
  stepDuration: 'StepDuration',
  /** A status change whose event the bus or the history did not take. */
  deploymentEventsDropped: 'DeploymentEventsDropped',
} as const;
