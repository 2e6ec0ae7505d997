/**
 * What one user may hold at once, so that no user can take the provider account's whole sandbox
 * allowance or run up the bill. Defaults come from configuration; an operator can set a user's
 * own limits (an item in the deployments table).
 */
export interface QuotaLimits {
  /** Sandboxes alive at once (RUNNING or on their way). */
  liveSandboxes: number;
  /** Deployments the saga works on at once (not yet RUNNING). */
  deploymentsInFlight: number;
  /** Deployments started in one calendar minute. */
  deploymentsPerMinute: number;
  /** The longest a sandbox may live from its creation; keep-alive cannot push past it. */
  maxSandboxLifetimeSeconds: number;
}

export type SlotQuota = 'liveSandboxes' | 'deploymentsInFlight';
export type QuotaName = SlotQuota | 'deploymentsPerMinute' | 'maxSandboxLifetimeSeconds';

export const DEFAULT_QUOTA_LIMITS: QuotaLimits = {
  liveSandboxes: 5,
  deploymentsInFlight: 3,
  deploymentsPerMinute: 10,
  maxSandboxLifetimeSeconds: 24 * 3600,
};

/** How each quota reads in a message. */
export const QUOTA_WORDS: Record<QuotaName, string> = {
  liveSandboxes: 'live sandboxes',
  deploymentsInFlight: 'deployments in flight',
  deploymentsPerMinute: 'deployments started per minute',
  maxSandboxLifetimeSeconds: 'longest sandbox lifetime',
};

/** The user's limits: their own where an operator set them, the defaults otherwise. */
export function limitsFor(defaults: QuotaLimits, override: Partial<QuotaLimits> | undefined): QuotaLimits {
  const own = Object.fromEntries(Object.entries(override ?? {}).filter(([, value]) => Number.isInteger(value) && (value as number) >= 0));
  return { ...defaults, ...own };
}
