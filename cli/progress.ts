/**
 * A deployment's progress, step by step: create, upload N/M files, (install and) start, health.
 * Each step is printed as done with its duration once the deployment has moved past it (durations
 * come from the API's timestamps, so a step that went by between two polls is shown all the same).
 * On a terminal the current step spins (ora); elsewhere only finished steps are printed.
 */
import ora, { type Ora } from 'ora';
import { STEPS, type DeploymentStatus, type DeploymentView, type Step } from './api-types.ts';
import { formatDuration, type Colors } from './format.ts';

/** The status in which a step starts, and the one that says it is done. */
const STEP_STARTED_BY: Record<Step, DeploymentStatus> = { create: 'PENDING', upload: 'UPLOADING', start: 'STARTING', health: 'CHECKING_HEALTH' };
const STEP_DONE_BY: Record<Step, DeploymentStatus> = { create: 'UPLOADING', upload: 'STARTING', start: 'CHECKING_HEALTH', health: 'RUNNING' };
const LABEL_WIDTH = 32;

export interface ProgressOptions {
  stream: NodeJS.WritableStream & { isTTY?: boolean };
  /** Live spinner (a terminal) or finished lines only. */
  interactive: boolean;
  colors: Colors;
}

export class DeploymentProgress {
  readonly #options: ProgressOptions;
  readonly #spinner: Ora | undefined;
  /** How many steps have been printed as done. */
  #printed = 0;
  #current: Step | undefined;
  #currentSeenAt = 0;
  #last: DeploymentView | undefined;
  #ticker: NodeJS.Timeout | undefined;

  constructor(options: ProgressOptions) {
    this.#options = options;
    this.#spinner = options.interactive ? ora({ stream: options.stream, discardStdin: false, isEnabled: true }) : undefined;
  }

  /** Shows what a poll of the deployment found. */
  update(view: DeploymentView): void {
    this.#last = view;
    while (this.#printed < STEPS.length && isDone(view, STEPS[this.#printed]!)) {
      const step = STEPS[this.#printed]!;
      this.#persist('done', step, view);
      this.#printed++;
    }
    const current = this.#printed < STEPS.length && !isOver(view) ? STEPS[this.#printed] : undefined;
    if (current !== this.#current) {
      this.#current = current;
      this.#currentSeenAt = Date.now();
    }
    this.#render();
  }

  /** The deployment ended (RUNNING or not): the step it failed in is printed as failed. */
  end(view: DeploymentView): void {
    this.update(view);
    if (view.status !== 'RUNNING' && this.#printed < STEPS.length) {
      const failedStep = view.error && (STEPS as readonly string[]).includes(view.error.step) ? (view.error.step as Step) : STEPS[this.#printed]!;
      this.#persist(view.status === 'FAILED' ? 'failed' : 'stopped', failedStep, view);
    }
    this.pause();
  }

  /** Stops the spinner without printing (before a prompt or a message). */
  pause(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
    this.#spinner?.stop();
  }

  #render(): void {
    const spinner = this.#spinner;
    if (!spinner) return;
    if (!this.#current || !this.#last) {
      this.pause();
      return;
    }
    spinner.text = this.#spinnerText();
    if (!spinner.isSpinning) spinner.start();
    // The elapsed time keeps moving between polls.
    this.#ticker ??= setInterval(() => {
      if (this.#current && this.#last) spinner.text = this.#spinnerText();
    }, 100);
    this.#ticker.unref();
  }

  #spinnerText(): string {
    const { colors } = this.#options;
    const label = stepLabel(this.#current!, this.#last!);
    return `${label.padEnd(LABEL_WIDTH)} ${colors.dim(formatDuration(Date.now() - this.#currentSeenAt))}`;
  }

  #persist(outcome: 'done' | 'failed' | 'stopped', step: Step, view: DeploymentView): void {
    const { colors, stream } = this.#options;
    const duration = stepDuration(view, step);
    const label = stepLabel(step, view, outcome === 'done');
    const symbol = outcome === 'done' ? colors.green('✔') : outcome === 'failed' ? colors.red('✖') : colors.yellow('■');
    const text = `${label.padEnd(LABEL_WIDTH)} ${duration === undefined ? '' : colors.dim(formatDuration(duration))}`.trimEnd();
    if (this.#spinner) {
      this.#spinner.stopAndPersist({ symbol, text });
    } else {
      stream.write(`${symbol} ${text}\n`);
    }
  }
}

function isOver(view: DeploymentView): boolean {
  return view.status === 'RUNNING' || view.status === 'FAILED' || view.status === 'TERMINATED' || view.status === 'EXPIRED' || view.status === 'LOST';
}

function isDone(view: DeploymentView, step: Step): boolean {
  return view.timestamps[STEP_DONE_BY[step]] !== undefined || (step === 'health' && view.status === 'RUNNING');
}

/** From the step's first status to the status that ended it (the next step's, or the failure). */
function stepDuration(view: DeploymentView, step: Step): number | undefined {
  const started = step === 'create' ? (view.timestamps.PENDING ?? view.timestamps.createdAt) : view.timestamps[STEP_STARTED_BY[step]];
  const ended = view.timestamps[STEP_DONE_BY[step]] ?? view.timestamps[view.status];
  if (!started || !ended) return undefined;
  return Math.max(0, new Date(ended).getTime() - new Date(started).getTime());
}

export function stepLabel(step: Step, view: DeploymentView, done = false): string {
  switch (step) {
    case 'create':
      return view.redeployOf ? 'reuse sandbox' : 'create sandbox';
    case 'upload': {
      const { filesUploaded, filesTotal } = view.progress;
      return `upload ${done ? filesTotal : filesUploaded}/${filesTotal} files`;
    }
    case 'start':
      return view.options.installCommand ? 'install & start' : 'start';
    case 'health':
      // The health path answered 404 and `/` answered instead: the label says which one counted.
      return view.healthyPath && view.healthyPath !== view.options.healthPath ? `health check ${view.healthyPath}` : `health check ${view.options.healthPath}`;
  }
}
