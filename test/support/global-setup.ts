/** Synthesizes the CDK stack once for the whole run; the local stacks of all test files use it. */
import type { TestProject } from 'vitest/node';
import { synthesizeStack, type SynthesizedStack } from '../../infra/local/synthesized-stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    synthesizedStack: SynthesizedStack;
  }
}

export default function setup(project: TestProject): void {
  project.provide('synthesizedStack', synthesizeStack());
}
