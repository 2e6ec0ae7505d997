/** A clock that only moves when a test moves it: every port and step that takes `now` reads it. */
export class FakeClock {
  #ms: number;

  constructor(start: Date | string = '2030-01-01T00:00:00.000Z') {
    this.#ms = new Date(start).getTime();
  }

  /** The current time; an arrow so it can be handed on as `now`. */
  readonly now = (): Date => new Date(this.#ms);

  iso(): string {
    return this.now().toISOString();
  }

  advance(ms: number): void {
    this.#ms += ms;
  }

  advanceSeconds(seconds: number): void {
    this.advance(seconds * 1000);
  }

  set(time: Date | string): void {
    this.#ms = new Date(time).getTime();
  }

  /** The time `seconds` from now, as ISO text (expiries and deadlines in records). */
  inSeconds(seconds: number): string {
    return new Date(this.#ms + seconds * 1000).toISOString();
  }
}
