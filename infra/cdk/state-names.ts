/**
 * Names of states of the deployment state machine that code outside the CDK app refers to (the
 * local runner shortens the probe Wait in tests). Kept apart so that reading them does not load
 * aws-cdk-lib.
 */
export const PROBE_WAIT_STATE = 'WaitBeforeNextProbe';
