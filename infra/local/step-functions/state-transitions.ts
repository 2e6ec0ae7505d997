/**
 * State transitions of an execution, counted from the ASL runner's events the way Step Functions
 * bills a standard workflow: one each time a state is entered (Map iterations' states included)
 * and one more for each retry. aws-local-stepfunctions emits a StateRetried (and no new
 * StateEntered) when it runs a state again.
 */

export interface RunnerEvent {
  type: string;
  state?: { name: string };
}

export interface StateTransitions {
  total: number;
  /** By state name: entries plus retries. */
  byState: ReadonlyMap<string, number>;
  retries: number;
}

export function stateTransitions(events: readonly RunnerEvent[]): StateTransitions {
  const byState = new Map<string, number>();
  let total = 0;
  let retries = 0;
  for (const event of events) {
    if (event.type !== 'StateEntered' && event.type !== 'StateRetried') continue;
    total++;
    if (event.type === 'StateRetried') retries++;
    const name = event.state?.name ?? '?';
    byState.set(name, (byState.get(name) ?? 0) + 1);
  }
  return { total, byState, retries };
}
