/**
 * A build plan as the CLI prints it: one line per step (install, build, start, port, env) with
 * the command and the reason it was chosen, then the notes.
 */
import type { BuildPlan } from '../functions/shared/deployments/build-plan/build-plan.ts';
import type { Colors } from './format.ts';
import { inCliTerms } from './option-terms.ts';

/** The env the plan always sets; shown once, not per deploy. */
const ALWAYS_SET = new Set(['PORT', 'HOST']);

export function formatPlan(plan: BuildPlan, colors: Colors): string {
  const kind = [plan.runtime, plan.framework, plan.packageManager && `${plan.packageManager.name}${plan.packageManager.version ? `@${plan.packageManager.version}` : ''}`]
    .filter(Boolean)
    .join(', ');
  const rows: [string, string, string][] = [
    ['install', plan.install?.command ?? '(nothing to install)', plan.install?.reason ?? ''],
    ...(plan.build ? [['build', plan.build.command, plan.build.reason] as [string, string, string]] : []),
    ['start', plan.start.command, plan.start.reason],
    ['port', String(plan.port.value), plan.port.reason],
    ...plan.env
      .filter((entry) => !ALWAYS_SET.has(entry.name))
      .map((entry): [string, string, string] => ['env', `${entry.name}=${entry.value}`, `${entry.reason} (${entry.phases.join(', ')})`]),
  ];
  const width = Math.min(48, Math.max(...rows.map(([, command]) => command.length)));
  const lines = [
    `${colors.bold('plan')} ${colors.dim(`(${kind})`)}`,
    ...rows.map(([label, command, reason]) => `  ${label.padEnd(8)}${command.padEnd(width)}  ${colors.dim(inCliTerms(reason))}`),
    ...plan.notes.map((note) => `  ${colors.yellow('note')}    ${inCliTerms(note)}`),
  ];
  return `${lines.join('\n')}\n`;
}
