/** The local EventBridge's pattern matching, on the patterns the stack's rules use. */
import { describe, expect, it } from 'vitest';
import { matchesPattern } from '../../../infra/local/aws/event-pattern.ts';

const WEBHOOK_PATTERN = { source: ['coderunner'], 'detail-type': ['Deployment Status Changed'], detail: { callbackUrl: [{ exists: true }] } };

function event(detail: Record<string, unknown>, source = 'coderunner') {
  return { source, 'detail-type': 'Deployment Status Changed', detail };
}

describe('matchesPattern', () => {
  it('matches a status change with a callbackUrl', () => {
    expect(matchesPattern(WEBHOOK_PATTERN, event({ status: 'RUNNING', callbackUrl: 'https://hooks.example.com/' }))).toBe(true);
  });

  it('does not match a status change without a callbackUrl', () => {
    expect(matchesPattern(WEBHOOK_PATTERN, event({ status: 'RUNNING' }))).toBe(false);
  });

  it('does not match another source', () => {
    expect(matchesPattern(WEBHOOK_PATTERN, event({ callbackUrl: 'https://hooks.example.com/' }, 'aws.states'))).toBe(false);
  });

  it('matches any of several literal values, and prefixes', () => {
    // Prepare
    const pattern = { detail: { status: ['FAILED', 'TIMED_OUT'], name: [{ prefix: 'dep-' }] } };

    // Act
    const results = [
      matchesPattern(pattern, { detail: { status: 'TIMED_OUT', name: 'dep-1' } }),
      matchesPattern(pattern, { detail: { status: 'SUCCEEDED', name: 'dep-1' } }),
      matchesPattern(pattern, { detail: { status: 'FAILED', name: 'other' } }),
    ];

    // Assert
    expect(results).toEqual([true, false, false]);
  });

  it('refuses a matcher it does not implement instead of never matching', () => {
    expect(() => matchesPattern({ detail: { size: [{ numeric: ['>', 1] }] } }, { detail: { size: 2 } })).toThrow(/numeric/);
  });
});
