import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, LIMIT_PROFILES, resolveLimits, SandboxLimitsError } from '../../../infra/local/sandbox-host/sandbox-limits.ts';

describe('resolveLimits', () => {
  it("takes the template's profile", () => {
    expect(resolveLimits('small', undefined)).toEqual(LIMIT_PROFILES.small);
  });

  it('gives any other template the defaults', () => {
    expect(resolveLimits('agentsphere-code-interpreter-v1', undefined)).toEqual(DEFAULT_LIMITS);
  });

  it('puts the overrides of the create call on top of the profile', () => {
    expect(resolveLimits('large', { memoryBytes: 256 * 1024 * 1024, cpus: 0.25 })).toEqual({ ...LIMIT_PROFILES.large, memoryBytes: 256 * 1024 * 1024, cpus: 0.25 });
  });

  it.each([
    [{ swap: 1 }, /unknown limit "swap"/],
    [{ processes: 10.5 }, /limits.processes must be an integer/],
    [{ processes: '64' }, /limits.processes must be an integer/],
    [{ memoryBytes: 1024 }, /limits.memoryBytes must be an integer from/],
    [{ cpus: 1000 }, /limits.cpus must be a number from/],
    [[1, 2], /limits must be an object/],
  ])('refuses %j', (override, message) => {
    expect(() => resolveLimits('base', override)).toThrow(SandboxLimitsError);
    expect(() => resolveLimits('base', override)).toThrow(message);
  });

  it('does not take a template name from the prototype', () => {
    expect(resolveLimits('constructor', undefined)).toEqual(DEFAULT_LIMITS);
  });
});
