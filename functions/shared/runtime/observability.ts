/**
 * Structured JSON logs and CloudWatch metrics (EMF) for every handler. Handlers add the
 * deployment id and execution to every log line through the correlate middleware.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const SERVICE_NAME = 'coderunner';

export const logger = new Logger({ serviceName: SERVICE_NAME });

// Its own warnings (e.g. no metrics in an invocation) go through the structured logger.
export const metrics = new Metrics({ namespace: 'CodeRunner', serviceName: SERVICE_NAME, logger });

export const METRIC = {
  deploymentsStarted: 'DeploymentsStarted',
  deploymentsSucceeded: 'DeploymentsSucceeded',
  deploymentsFailed: 'DeploymentsFailed',
  stepDuration: 'StepDuration',
  /** A status change whose event the bus or the history did not take. */
  deploymentEventsDropped: 'DeploymentEventsDropped',
} as const;
