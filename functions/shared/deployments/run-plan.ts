/**
 * What the start step runs: the install, build and start commands of a deployment's plan, and
 * the environment of each phase. A deployment recorded before plans existed runs its options.
 */
import type { Deployment } from './deployment.ts';

export type RunPhase = 'install' | 'build' | 'start';

export interface RunnablePlan {
  install?: { command: string };
  build?: { command: string };
  start: { command: string };
  port: { value: number };
  env: readonly { name: string; value: string; phases: readonly RunPhase[] }[];
  providedFiles?: readonly string[];
}

export function runnablePlan(deployment: Pick<Deployment, 'options' | 'plan'>): RunnablePlan {
  if (deployment.plan) return deployment.plan;
  const { installCommand, startCommand, port } = deployment.options;
  return {
    ...(installCommand ? { install: { command: installCommand } } : {}),
    start: { command: startCommand },
    port: { value: port },
    env: [],
  };
}

/**
 * The environment of a phase: the plan's for that phase, then the user's (which win), then PORT
 * and HOST, which the app must see as the plan says.
 */
export function phaseEnv(plan: RunnablePlan, phase: RunPhase, userEnv: Record<string, string>, port: number): Record<string, string> {
  const planned = Object.fromEntries(plan.env.filter((entry) => entry.phases.includes(phase)).map((entry) => [entry.name, entry.value]));
  return { HOST: '0.0.0.0', ...planned, ...userEnv, PORT: String(port) };
}
