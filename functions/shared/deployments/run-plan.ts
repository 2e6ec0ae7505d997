/**
 * What the start step runs: the install, build and start commands of a deployment's plan, and
 * the environment of each phase. A deployment recorded before plans existed runs its options.
 */
import type { BuildPlan } from './build-plan/build-plan.ts';
import type { Deployment } from './deployment.ts';

export type RunPhase = BuildPlan['env'][number]['phases'][number];

/** The part of a build plan the start step runs. */
export type RunnablePlan = Pick<BuildPlan, 'install' | 'build' | 'start' | 'env' | 'providedFiles' | 'packageManager'>;

export function runnablePlan(deployment: Pick<Deployment, 'options' | 'plan'>): RunnablePlan {
  if (deployment.plan) return deployment.plan;
  const { installCommand, startCommand } = deployment.options;
  const given = (command: string) => ({ command, reason: 'recorded before build plans', source: 'option' as const });
  return {
    ...(installCommand ? { install: given(installCommand) } : {}),
    start: given(startCommand),
    env: [],
  };
}

/**
 * The environment of a phase: HOST, the plan's for that phase, then the user's (which win), then
 * PORT, which must be the port the deployment reaches the app on.
 */
export function phaseEnv(plan: RunnablePlan, phase: RunPhase, userEnv: Record<string, string>, port: number): Record<string, string> {
  const planned = Object.fromEntries(plan.env.filter((entry) => entry.phases.includes(phase)).map((entry) => [entry.name, entry.value]));
  return { HOST: '0.0.0.0', ...planned, ...userEnv, PORT: String(port) };
}
