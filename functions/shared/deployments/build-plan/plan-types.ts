/**
 * The build plan's shape: how a deployment installs, builds, starts and reaches an app, with a
 * reason a user can read for every choice.
 */

/** One uploaded file. `path` is relative to the app root, '/'-separated. */
export interface ProjectFile {
  path: string;
  /** Absent for files too big to read; only small config and entry files are read. */
  content?: Uint8Array | string;
}

/** What the caller chose; each one replaces its part of the plan. */
export interface PlanOverrides {
  port?: number;
  installCommand?: string;
  buildCommand?: string;
  startCommand?: string;
}

export interface PlanContext {
  /** Host name (no port) whose subdomains serve sandbox ports, e.g. 'agentsphere.run'; used for dev-server host checks. */
  sandboxDomain?: string;
  /** Tools the sandbox has beyond node/npm/npx/python3 (e.g. 'bun'). */
  sandboxTools?: readonly string[];
  /** The major version of the sandbox's Node (default 20): some package manager releases need a newer one. */
  nodeMajorVersion?: number;
  /**
   * The env the caller gives the app. Read only to warn about (and work around) settings that
   * change what the install does, e.g. NODE_ENV=production skipping the devDependencies a build needs.
   */
  userEnv?: Readonly<Record<string, string>>;
}

export type PlanPhase = 'install' | 'build' | 'start';

export interface PlanStep {
  command: string;
  reason: string;
  source: 'option' | 'detected';
}

export interface PlanEnv {
  name: string;
  value: string;
  reason: string;
  phases: readonly PlanPhase[];
}

export type PackageManagerName = 'npm' | 'yarn' | 'pnpm' | 'bun' | 'pip';

export interface PlannedPackageManager {
  name: PackageManagerName;
  version?: string;
  reason: string;
}

export type ProvidedFile = 'static-server';

export interface BuildPlan {
  runtime: 'node' | 'python' | 'static';
  /** 'next' | 'vite' | 'nest' | 'express' | 'fastify' | 'hono' | 'koa' | 'flask' | 'fastapi' | 'django' | ... when recognised. */
  framework?: string;
  packageManager?: PlannedPackageManager;
  /** Absent: nothing to install (the notes say why). */
  install?: PlanStep;
  build?: PlanStep;
  start: PlanStep;
  port: { value: number; reason: string; source: 'option' | 'detected' | 'default' };
  /** Extra env the plan sets, per phase; PORT (= port.value) and HOST=0.0.0.0 always. */
  env: PlanEnv[];
  /** Product-provided files that must be written into the sandbox before start. */
  providedFiles?: readonly ProvidedFile[];
  notes: string[];
}

/** The port the API has always defaulted to. */
export const DEFAULT_APP_PORT = 3000;
/** The Node major of the sandboxes we know (Debian's v20). */
export const DEFAULT_SANDBOX_NODE_MAJOR = 20;
