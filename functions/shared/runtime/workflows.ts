/** The deployment saga's executions (Step Functions), built once per Lambda container. */
import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnWorkflows } from '../adapters/sfn-workflows.ts';

let workflows: SfnWorkflows | undefined;

export function sagaWorkflows(): SfnWorkflows {
  workflows ??= new SfnWorkflows({ client: new SFNClient({}), stateMachineArn: process.env.STATE_MACHINE_ARN ?? '' });
  return workflows;
}
