/**
 * The local Lambda runtime's meter: every invocation of a handler (from the HTTP API, the state
 * machine, an EventBridge rule or the sweep's schedule), with its duration and the memory its
 * function is configured with in the synthesized template, so a benchmark can count what a
 * deployment costs in Lambda requests and GB-seconds. Lambda bills duration rounded up to the
 * next millisecond.
 */
import type { LocalLambdaHandler } from './step-functions/lambda-invoke.ts';

export interface LambdaInvocation {
  functionName: string;
  /** The function's configured memory (MemorySize), in MB. */
  memoryMb: number;
  durationMs: number;
  /** Whole milliseconds, rounded up: what Lambda bills. */
  billedMs: number;
  /** Whether the handler threw (a failed invocation is billed too). */
  failed: boolean;
}

/** Lambda's default MemorySize when a function sets none. */
export const DEFAULT_MEMORY_MB = 128;

export class LambdaInvocationMeter {
  #invocations: LambdaInvocation[] = [];
  #inFlight = 0;
  #idle: PromiseWithResolvers<void> | undefined;

  /** The handler, counted on each call. */
  meter(functionName: string, memoryMb: number, handler: LocalLambdaHandler): LocalLambdaHandler {
    return async (event, context) => {
      this.#inFlight++;
      const started = performance.now();
      let failed = false;
      try {
        return await handler(event, context);
      } catch (error) {
        failed = true;
        throw error;
      } finally {
        const durationMs = performance.now() - started;
        this.#invocations.push({ functionName, memoryMb, durationMs, billedMs: Math.ceil(durationMs), failed });
        this.#inFlight--;
        if (this.#inFlight === 0) this.#idle?.resolve();
      }
    };
  }

  /** Invocations that ended since start (or the last reset), in the order they ended. */
  invocations(): readonly LambdaInvocation[] {
    return this.#invocations;
  }

  /** Invocations still running. */
  inFlight(): number {
    return this.#inFlight;
  }

  /** Resolves once no invocation is running. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    this.#idle ??= Promise.withResolvers<void>();
    const idle = this.#idle.promise;
    void idle.then(() => {
      this.#idle = undefined;
    });
    return idle;
  }

  reset(): void {
    this.#invocations = [];
  }
}

/** GB-seconds billed for these invocations: configured memory × billed duration. */
export function gigabyteSeconds(invocations: readonly LambdaInvocation[]): number {
  return invocations.reduce((sum, invocation) => sum + (invocation.memoryMb / 1024) * (invocation.billedMs / 1000), 0);
}

/** A function's MemorySize in the template, or Lambda's default. */
export function configuredMemoryMb(resource: { Properties?: Record<string, unknown> } | undefined): number {
  const memory = resource?.Properties?.MemorySize;
  return typeof memory === 'number' ? memory : DEFAULT_MEMORY_MB;
}
