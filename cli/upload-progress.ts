/**
 * The byte progress of a manifest upload: a cli-progress bar with speed on a terminal, a single
 * summary line otherwise (logs and CI stay readable).
 */
import cliProgress from 'cli-progress';
import type { Colors } from './format.ts';
import { formatBytes, formatDuration } from './format.ts';

export class UploadProgress {
  readonly #stream: NodeJS.WriteStream;
  readonly #bar: cliProgress.SingleBar | undefined;
  readonly #total: number;
  readonly #startedAt = Date.now();
  readonly #colors: Colors;
  #sent = 0;
  #retries = 0;

  constructor(options: { stream: NodeJS.WriteStream; interactive: boolean; total: number; colors: Colors }) {
    this.#stream = options.stream;
    this.#total = options.total;
    this.#colors = options.colors;
    if (options.interactive && options.total > 0) {
      this.#bar = new cliProgress.SingleBar(
        {
          stream: options.stream,
          format: '  upload |{bar}| {percentage}% {sentText} of {totalText} at {speed}/s',
          hideCursor: true,
          clearOnComplete: true,
          barsize: 30,
          fps: 10,
        },
        cliProgress.Presets.shades_classic,
      );
      this.#bar.start(options.total, 0, this.#payload());
    }
  }

  add(bytes: number): void {
    this.#sent = Math.max(0, this.#sent + bytes);
    this.#bar?.update(Math.min(this.#sent, this.#total), this.#payload());
  }

  retried(partNumber: number, error: Error): void {
    this.#retries += 1;
    if (!this.#bar) this.#stream.write(`  ${this.#colors.yellow('retry')} part ${partNumber}: ${error.message}\n`);
  }

  end(): void {
    this.#bar?.stop();
    const elapsed = Date.now() - this.#startedAt;
    const retries = this.#retries ? `, ${this.#retries} part ${this.#retries === 1 ? 'retry' : 'retries'}` : '';
    this.#stream.write(`${this.#colors.green('✔')} uploaded ${formatBytes(this.#total)} in ${formatDuration(elapsed)} (${formatBytes(speed(this.#total, elapsed))}/s${retries})\n`);
  }

  stop(): void {
    this.#bar?.stop();
  }

  #payload() {
    return { sentText: formatBytes(this.#sent), totalText: formatBytes(this.#total), speed: formatBytes(speed(this.#sent, Date.now() - this.#startedAt)) };
  }
}

function speed(bytes: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((bytes * 1000) / elapsedMs) : 0;
}
