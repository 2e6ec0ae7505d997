/**
 * What one deployment request may hold. The API enforces them (operators may lower or raise
 * some through its environment); the CLI checks the defaults first and names the files that
 * break them, so a project too big for an inline request goes by manifest instead.
 */
export interface DeploymentLimits {
  maxFiles: number;
  maxFileBytes: number;
  maxTotalBytes: number;
  maxPathLength: number;
  maxEnvVars: number;
  maxEnvValueBytes: number;
  minTimeoutSeconds: number;
  maxTimeoutSeconds: number;
}

export const DEFAULT_LIMITS: DeploymentLimits = {
  maxFiles: 2_000,
  maxFileBytes: 1024 * 1024,
  // API Gateway takes 10 MB and Lambda 6 MB per request; base64 inflates by a third.
  maxTotalBytes: 4 * 1024 * 1024,
  maxPathLength: 512,
  maxEnvVars: 64,
  maxEnvValueBytes: 4_096,
  minTimeoutSeconds: 60,
  maxTimeoutSeconds: 24 * 3600,
};
