/**
 * Scripted behaviour of a fake sandbox, by command pattern: what `run` answers for a command,
 * and what a background process does when it starts (listen, print, exit).
 */
import type { CommandResult, RunOptions } from '../../../functions/shared/sandbox/sandbox-provider.ts';
import type { FakeProcess } from './fake-process.ts';
import type { FakeSandbox } from './fake-sandbox.ts';

/** A substring of the command, a pattern, or a test. */
export type CommandMatch = string | RegExp | ((command: string) => boolean);

export type RunResponder =
  | Partial<CommandResult>
  | ((command: string, options: RunOptions | undefined, sandbox: FakeSandbox) => Partial<CommandResult> | Promise<Partial<CommandResult>>);

export type ProgramBehaviour = (process: FakeProcess, sandbox: FakeSandbox) => void;

interface Rule<Action> {
  match: CommandMatch;
  action: Action;
  remaining: number;
}

export class CommandRules<Action> {
  readonly #rules: Rule<Action>[] = [];

  /** Adds a rule; it applies `times` times (default: always). Later rules win over earlier ones. */
  add(match: CommandMatch, action: Action, times = Infinity): void {
    this.#rules.unshift({ match, action, remaining: times });
  }

  take(command: string): Action | undefined {
    const rule = this.#rules.find((candidate) => candidate.remaining > 0 && matches(candidate.match, command));
    if (!rule) return undefined;
    rule.remaining -= 1;
    return rule.action;
  }
}

export function matches(match: CommandMatch, command: string): boolean {
  if (typeof match === 'string') return command.includes(match);
  if (match instanceof RegExp) return match.test(command);
  return match(command);
}

export async function respond(responder: RunResponder, command: string, options: RunOptions | undefined, sandbox: FakeSandbox): Promise<CommandResult> {
  const result = typeof responder === 'function' ? await responder(command, options, sandbox) : responder;
  return { exitCode: result.exitCode ?? 0, stdout: result.stdout ?? '', stderr: result.stderr ?? '' };
}
