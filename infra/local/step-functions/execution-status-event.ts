/**
 * The EventBridge event Step Functions emits when an execution changes status, so local code
 * reacting to "Step Functions Execution Status Change" (e.g. the kill on FAILED / TIMED_OUT /
 * ABORTED) receives what the EventBridge rule target would receive on AWS.
 */
import { randomUUID } from 'node:crypto';
import type { DescribeExecutionOutput } from '@aws-sdk/client-sfn';

export interface ExecutionStatusChangeEvent {
  version: '0';
  id: string;
  'detail-type': 'Step Functions Execution Status Change';
  source: 'aws.states';
  account: string;
  /** ISO 8601 without milliseconds, like EventBridge. */
  time: string;
  region: string;
  resources: string[];
  detail: {
    executionArn: string;
    stateMachineArn: string;
    name: string;
    status: string;
    /** Milliseconds since the epoch, as in the real event. */
    startDate: number;
    stopDate: number | null;
    input: string;
    inputDetails: { included: boolean };
    output: string | null;
    outputDetails: { included: boolean } | null;
    error: string | null;
    cause: string | null;
  };
}

export function executionStatusChangeEvent(execution: DescribeExecutionOutput, now = new Date()): ExecutionStatusChangeEvent {
  const executionArn = execution.executionArn ?? '';
  // arn:aws:states:<region>:<account>:execution:<machine>:<name>
  const [, , , region = '', account = ''] = executionArn.split(':');
  const output = execution.output ?? null;
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Step Functions Execution Status Change',
    source: 'aws.states',
    account,
    time: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region,
    resources: [executionArn],
    detail: {
      executionArn,
      stateMachineArn: execution.stateMachineArn ?? '',
      name: execution.name ?? '',
      status: execution.status ?? '',
      startDate: execution.startDate?.getTime() ?? 0,
      stopDate: execution.stopDate?.getTime() ?? null,
      input: execution.input ?? '{}',
      inputDetails: { included: true },
      output,
      outputDetails: output === null ? null : { included: true },
      error: execution.error ?? null,
      cause: execution.cause ?? null,
    },
  };
}
