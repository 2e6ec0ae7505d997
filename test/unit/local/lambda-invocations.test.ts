/** The local Lambda runtime's meter: each invocation with its billed duration and memory. */
import { describe, expect, it } from 'vitest';
import { configuredMemoryMb, gigabyteSeconds, LambdaInvocationMeter } from '../../../infra/local/lambda-invocations.ts';
import { createLambdaContext } from '../../../infra/local/lambda-context.ts';

const context = createLambdaContext({ functionName: 'f', timeoutMs: 1000 });

describe('LambdaInvocationMeter', () => {
  it('records each invocation, failed ones too, with its duration rounded up to the millisecond', async () => {
    // Prepare
    const meter = new LambdaInvocationMeter();
    const ok = meter.meter('create', 512, async () => 'done');
    const failing = meter.meter('start', 1024, async () => {
      throw new Error('boom');
    });

    // Act
    const answer = await ok({}, context);
    await expect(failing({}, context)).rejects.toThrow('boom');

    // Assert
    expect(answer).toBe('done');
    expect(meter.invocations().map(({ functionName, memoryMb, failed }) => ({ functionName, memoryMb, failed }))).toEqual([
      { functionName: 'create', memoryMb: 512, failed: false },
      { functionName: 'start', memoryMb: 1024, failed: true },
    ]);
    for (const invocation of meter.invocations()) {
      expect(invocation.billedMs).toBe(Math.ceil(invocation.durationMs));
    }
  });

  it('tells when no invocation runs any more', async () => {
    // Prepare
    const meter = new LambdaInvocationMeter();
    const release = Promise.withResolvers<void>();
    const slow = meter.meter('health', 512, () => release.promise);
    const running = slow({}, context);

    // Act
    const idle = meter.idle();
    const inFlightBefore = meter.inFlight();
    release.resolve();
    await idle;

    // Assert
    await running;
    expect(inFlightBefore).toBe(1);
    expect(meter.inFlight()).toBe(0);
    expect(meter.invocations()).toHaveLength(1);
  });

  it('starts from zero after a reset', async () => {
    // Prepare
    const meter = new LambdaInvocationMeter();
    await meter.meter('kill', 512, async () => undefined)({}, context);

    // Act
    meter.reset();

    // Assert
    expect(meter.invocations()).toEqual([]);
  });
});

describe('gigabyteSeconds', () => {
  it('is configured memory times billed duration', () => {
    const invocations = [
      { functionName: 'a', memoryMb: 512, durationMs: 999.2, billedMs: 1000, failed: false },
      { functionName: 'b', memoryMb: 2048, durationMs: 250, billedMs: 250, failed: false },
    ];
    expect(gigabyteSeconds(invocations)).toBeCloseTo(0.5 + 0.5, 10);
  });

  it('reads MemorySize from the template, or Lambda\'s default', () => {
    expect(configuredMemoryMb({ Properties: { MemorySize: 1769 } })).toBe(1769);
    expect(configuredMemoryMb({ Properties: {} })).toBe(128);
    expect(configuredMemoryMb(undefined)).toBe(128);
  });
});
