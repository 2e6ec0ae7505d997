/**
 * The build plan of a deployment request: the uploaded files and the caller's options (each one
 * replaces its part of the plan), in the sandbox the service runs. The API and the CLI (for its
 * preview and --dry-run) both plan through here.
 */
import { planBuild, type BuildPlan, type PlanContext, type ProjectFile } from './build-plan/build-plan.ts';
import type { AppOptions } from './deployment.ts';
import { decodeContent, type DeploymentRequest } from './deployment-request.ts';

export interface SandboxFacts {
  /** AGENTSPHERE_DOMAIN, which may carry a port: sandbox ports are served on its subdomains. */
  domain?: string;
  tools?: readonly string[];
}

/**
 * What a client that plans ahead (the CLI's preview and --dry-run) knows of the service's
 * sandboxes: that they have a domain, not which. The plan then shows what the service will set
 * (Vite's allowed hosts, say) with this placeholder, instead of warning about a domain the
 * service does know.
 */
export const PREVIEW_SANDBOX_FACTS: SandboxFacts = { domain: '<sandbox domain>' };

/** Files bigger than this are never read by the plan (it reads manifests and entry files). */
const MAX_READ_BYTES = 256 * 1024;

/** What planning reads of a request (the API's validated body, or the CLI's before it is sent). */
export interface PlanInput {
  files: readonly Pick<DeploymentRequest['files'][number], 'path' | 'content' | 'encoding'>[];
  options: Pick<DeploymentRequest['options'], 'port' | 'installCommand' | 'buildCommand' | 'startCommand'> & { env?: Record<string, string> };
}

export function planDeployment(request: PlanInput, sandbox: SandboxFacts = {}): BuildPlan {
  const files = request.files.map((file) => {
    const content = decodeContent(file);
    return content.length <= MAX_READ_BYTES ? { path: file.path, content } : { path: file.path };
  });
  return planProjectFiles(files, request.options, sandbox);
}

/** The plan of files given by path (a manifest's, whose contents may be read lazily). */
export function planProjectFiles(files: readonly ProjectFile[], options: PlanInput['options'], sandbox: SandboxFacts = {}): BuildPlan {
  const context: PlanContext = {
    ...(sandbox.domain ? { sandboxDomain: sandbox.domain.replace(/:\d+$/, '') } : {}),
    ...(sandbox.tools ? { sandboxTools: sandbox.tools } : {}),
    ...(options.env ? { userEnv: options.env } : {}),
  };
  return planBuild(
    files,
    {
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.installCommand ? { installCommand: options.installCommand } : {}),
      ...(options.buildCommand ? { buildCommand: options.buildCommand } : {}),
      ...(options.startCommand ? { startCommand: options.startCommand } : {}),
    },
    context,
  );
}

/** The options the deployment runs with: the caller's, with the plan's choices filled in. */
export function effectiveOptions(request: Pick<DeploymentRequest, 'options'>, plan: BuildPlan): AppOptions {
  const { healthPath, timeoutSeconds } = request.options;
  return {
    port: plan.port.value,
    ...(plan.install ? { installCommand: plan.install.command } : {}),
    ...(plan.build ? { buildCommand: plan.build.command } : {}),
    startCommand: plan.start.command,
    healthPath,
    timeoutSeconds,
  };
}
