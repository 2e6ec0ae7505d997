/**
 * What a runtime's planner (Node, Python, static) detects, before the caller's options and the
 * common env are applied. Parts that depend on the start command are functions of it, because an
 * option may replace the detected one.
 */
import type { BuildPlan, PlanEnv, PlanStep, PlannedPackageManager, ProvidedFile } from './plan-types.ts';

export interface RuntimePlan {
  runtime: BuildPlan['runtime'];
  framework?: string;
  packageManager?: PlannedPackageManager;
  install?: PlanStep;
  /**
   * The install when an option replaces the detected start: a static site's start skips the
   * dependencies, which the caller's own command may need.
   */
  installForOtherStart?: PlanStep;
  /** The runtime when an option replaces the detected start (a static site's files run by the caller's command). */
  runtimeForOtherStart: BuildPlan['runtime'];
  build?: PlanStep;
  /** Absent when nothing to start was found. */
  start?: PlanStep;
  /** What the planner looked for, to tell the caller when it found no start command. */
  lookedFor: readonly string[];
  /** Notes that say why a start candidate did not fit, for the error when no start is found. */
  startNotes: readonly string[];
  env: PlanEnv[];
  providedFiles?: readonly ProvidedFile[];
  notes: string[];
  /** Notes true only when the detected start runs (dropped when an option replaces it). */
  detectedStartNotes: readonly string[];
  /** Env that depends on the start command that finally runs. */
  envForStart(command: string, source: PlanStep['source']): PlanEnv[];
  /** Files whose source may tell which port the start command's server listens on, most likely first. */
  entryFilesOf(command: string): string[];
  language: 'javascript' | 'python';
}
