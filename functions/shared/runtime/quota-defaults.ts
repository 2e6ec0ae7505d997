/**
 * The default quota limits, from configuration (the CDK stack sets them from context; the local
 * stack from its environment): QUOTA_LIVE_SANDBOXES, QUOTA_DEPLOYMENTS_IN_FLIGHT,
 * QUOTA_DEPLOYMENTS_PER_MINUTE, MAX_SANDBOX_LIFETIME_SECONDS.
 */
import { DEFAULT_QUOTA_LIMITS, type QuotaLimits } from '../deployments/quotas/quota-limits.ts';
import { numberEnv } from './environment.ts';

export function quotaDefaultsFromEnvironment(env: NodeJS.ProcessEnv = process.env): QuotaLimits {
  return {
    liveSandboxes: numberEnv('QUOTA_LIVE_SANDBOXES', DEFAULT_QUOTA_LIMITS.liveSandboxes, env),
    deploymentsInFlight: numberEnv('QUOTA_DEPLOYMENTS_IN_FLIGHT', DEFAULT_QUOTA_LIMITS.deploymentsInFlight, env),
    deploymentsPerMinute: numberEnv('QUOTA_DEPLOYMENTS_PER_MINUTE', DEFAULT_QUOTA_LIMITS.deploymentsPerMinute, env),
    maxSandboxLifetimeSeconds: numberEnv('MAX_SANDBOX_LIFETIME_SECONDS', DEFAULT_QUOTA_LIMITS.maxSandboxLifetimeSeconds, env),
  };
}
