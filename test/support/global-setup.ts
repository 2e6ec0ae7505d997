/** Synthesizes the CDK stack once for the whole run; the local stacks of all test files use it. */
import type { TestProject } from 'vitest/node';
import { loadSynthesizedStack, type SynthesizedStack } from '../../infra/local/synthesized-stack.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    synthesizedStack: SynthesizedStack;
  }
}

export default async function setup(project: TestProject): Promise<void> {
  project.provide('synthesizedStack', await loadSynthesizedStack());
}
