export { AgentSphereProvider, type AgentSphereProviderOptions } from './agentsphere-provider.ts';
export {
  AgentSphereSandbox,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_UPLOAD_TIMEOUT_MS,
  type AgentSphereSandboxOptions,
} from './agentsphere-sandbox.ts';
export {
  DEFAULT_AGENTSPHERE_DOMAIN,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type AgentSphereConfig,
} from './config.ts';
export { toSandboxError, withErrorMapping, isNetworkFailure, requestNeverSent } from './map-error.ts';
export { withRetry, isTransient, DEFAULT_RETRY_OPTIONS, type RetryOptions } from './retry.ts';
