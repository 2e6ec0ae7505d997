/** The CDK-shaped workflow fixture and small helpers shared by the Step Functions tests. */
import { readFileSync } from 'node:fs';
import type { CfnTemplate } from '../../../infra/local/step-functions/resolve-definition.ts';

export const FUNCTIONS = {
  prepareSandbox: 'PrepareSandboxFn8A1C5D2E',
  runFile: 'RunFileFn3F9B0C41',
  cleanup: 'CleanupFn7D2E4A90',
} as const;

export const STATE_MACHINE_ARN = 'arn:aws:states:local:000000000000:stateMachine:CodeRunnerWorkflow';

const TEMPLATE_URL = new URL('../../fixtures/step-functions/template.json', import.meta.url);

/** A fresh copy each call, so a test may change it. */
export function loadWorkflowTemplate(): CfnTemplate {
  return JSON.parse(readFileSync(TEMPLATE_URL, 'utf8')) as CfnTemplate;
}

/** Error classes must set `name`: it is Lambda's errorType, which Retry and Catch match. */
export class UploadFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UploadFailedError';
  }
}

/** A promise the test settles by hand, to hold a handler mid-invocation. */
export function gate<T = void>() {
  return Promise.withResolvers<T>();
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
