/** Errors of the deployment logs feature; each sets a stable `name`. */

/** The caller asked for something out of range (`lines`, `since`): a client error. */
export class InvalidLogQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidLogQueryError';
  }
}

/** The app log glob is not one the strict pattern accepts (it goes into a shell script). */
export class InvalidLogGlobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidLogGlobError';
  }
}

/** The collection script itself failed inside the sandbox (not a missing source: those are skipped). */
export class LogCollectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogCollectionError';
  }
}
