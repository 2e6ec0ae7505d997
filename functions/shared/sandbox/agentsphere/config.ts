/**
 * AgentSphere settings, passed explicitly to every SDK
 * call: the SDK would otherwise read its environment variables on its own at each call.
 */
import { SandboxConfigurationError } from '../errors.ts';
import type { DeadlineSource } from './time-budget.ts';

export interface AgentSphereConfig {
  apiKey: string;
  /** Host suffix of the control plane (`api.<domain>`) and of the sandboxes; may carry a port. */
  domain: string;
  /** Deadline of each request to the control plane or a sandbox daemon. */
  requestTimeoutMs: number;
  /** When the current invocation ends: requests never outlive it. */
  deadline?: DeadlineSource;
}

export const DEFAULT_AGENTSPHERE_DOMAIN = 'agentsphere.run';
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

type Environment = Readonly<Record<string, string | undefined>>;

/** The SDK sends a request without a key rather than refusing, so refuse here. */
export function requireApiKey(apiKey: string | undefined): string {
  const trimmed = apiKey?.trim();
  if (!trimmed) {
    throw new SandboxConfigurationError(
      'The AgentSphere API key is missing: set AGENTSPHERE_API_KEY (or pass apiKey) to a key from the AgentSphere dashboard.',
    );
  }
  return trimmed;
}

/** The SDK builds `https://api.<domain>` itself, so a scheme or a path here would break every URL. */
export function checkDomain(domain: string): string {
  if (!domain || /[/\s]/.test(domain) || domain.includes('://')) {
    throw new SandboxConfigurationError(
      `AGENTSPHERE_DOMAIN must be a bare host name such as "agentsphere.run" (optionally with a port), got "${domain}".`,
    );
  }
  return domain;
}

/**
 * AGENTSPHERE_DEBUG=true makes the SDK fake `create()` (fixed id, no request) and skip `kill()`,
 * and no per-call option turns it off: refuse to start rather than run against nothing.
 */
export function assertSdkDebugOff(env: Environment = process.env): void {
  if (env.AGENTSPHERE_DEBUG?.trim().toLowerCase() === 'true') {
    throw new SandboxConfigurationError(
      'AGENTSPHERE_DEBUG=true makes the AgentSphere SDK fake sandbox creation and skip kills; unset it.',
    );
  }
}
