/** The default quotas a function reads from its environment (set by the CDK stack from context). */
import { describe, expect, it } from 'vitest';
import { quotaDefaultsFromEnvironment } from '../../../functions/shared/runtime/quota-defaults.ts';

describe('quota defaults', () => {
  it('are 5 live sandboxes, 3 deployments in flight, 10 started per minute and 24 h when nothing is configured', () => {
    // Act
    const limits = quotaDefaultsFromEnvironment({});

    // Assert
    expect(limits).toEqual({ liveSandboxes: 5, deploymentsInFlight: 3, deploymentsPerMinute: 10, maxSandboxLifetimeSeconds: 86_400 });
  });

  it('come from the environment when it sets them', () => {
    // Act
    const limits = quotaDefaultsFromEnvironment({
      QUOTA_LIVE_SANDBOXES: '2',
      QUOTA_DEPLOYMENTS_IN_FLIGHT: '1',
      QUOTA_DEPLOYMENTS_PER_MINUTE: '4',
      MAX_SANDBOX_LIFETIME_SECONDS: '7200',
    });

    // Assert
    expect(limits).toEqual({ liveSandboxes: 2, deploymentsInFlight: 1, deploymentsPerMinute: 4, maxSandboxLifetimeSeconds: 7200 });
  });
});
