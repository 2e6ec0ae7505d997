/**
 * middy middleware: every log line of the invocation carries the deployment id and the Step
 * Functions execution it runs for.
 */
import type middy from '@middy/core';
import type { Logger } from '@aws-lambda-powertools/logger';

export interface CorrelatedEvent {
  deploymentId?: string;
  executionArn?: string;
}

export function correlateDeployment(logger: Logger): middy.MiddlewareObj<CorrelatedEvent> {
  const keys = ['deploymentId', 'execution'];
  return {
    before: (request) => {
      const { deploymentId, executionArn } = request.event ?? {};
      logger.appendKeys({ deploymentId, execution: executionArn });
    },
    after: () => logger.removeKeys(keys),
    onError: () => logger.removeKeys(keys),
  };
}
