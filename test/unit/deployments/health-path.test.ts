import { describe, expect, it } from 'vitest';
import { healthPathProblem, sameOriginUrl } from '../../../functions/shared/deployments/health-path.ts';
import { probeApp } from '../../../functions/shared/deployments/probe-app.ts';

describe('health path rules', () => {
  it.each(['/', '/health', '/api/v1/ready', '/a-b_c.d~e', '/status%20page', "/x;y=1,z=(2)"])('accepts the plain path %s', (path) => {
    expect(healthPathProblem(path)).toBeUndefined();
  });

  it.each([
    ['health', 'must start with /'],
    ['http://169.254.169.254/', 'must start with /'],
    ['//evil.example/health', 'must not contain "//" (it would name another host)'],
    ['/ok//evil', 'must not contain "//" (it would name another host)'],
    ['/\\evil.example', 'must not contain a backslash'],
    ['/@evil.example', 'must not contain "@"'],
    ['/health?x=1', 'must not contain a query or fragment'],
    ['/health#top', 'must not contain a query or fragment'],
    ['/with space', 'must contain only URL path characters (no spaces or control characters)'],
    ['/tab\there', 'must contain only URL path characters (no spaces or control characters)'],
    ['/bad%zz', 'must use % only in %XX escapes'],
    ['/../admin', 'must not contain "." or ".." segments'],
    [`/${'a'.repeat(600)}`, 'must be at most 512 characters'],
  ])('refuses %s: %s', (path, problem) => {
    expect(healthPathProblem(path)).toBe(problem);
  });
});

describe('probe URLs', () => {
  it('joins a plain path to the sandbox port origin', () => {
    expect(sameOriginUrl('https://3000-abc.agentsphere.run', '/health').href).toBe('https://3000-abc.agentsphere.run/health');
  });

  it('refuses a path that would leave the origin instead of following it', () => {
    expect(() => sameOriginUrl('https://3000-abc.agentsphere.run', '//other.example/')).toThrow(RangeError);
  });

  it('never fetches another host for a path that names one', async () => {
    // Prepare
    const fetched: string[] = [];
    const recordingFetch = (async (input: URL | string) => {
      fetched.push(String(input));
      return new Response('ok');
    }) as typeof fetch;

    // Act
    const result = await probeApp('https://3000-abc.agentsphere.run', '//other.example/', { fetch: recordingFetch });

    // Assert
    expect(fetched).toEqual([]);
    expect(result).toMatchObject({ healthy: false, error: expect.stringContaining('must not contain "//"') });
  });
});
