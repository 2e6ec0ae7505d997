import { DeploymentError } from '../errors.ts';

/** The request field a caller fixes to get past a PlanError. */
export type PlanErrorField = 'options.startCommand' | 'files';

/**
 * The files cannot be planned: no start command can be found, or a config file the plan must
 * read is broken. The API answers 400 with `field` and the message.
 */
export class PlanError extends DeploymentError {
  readonly field: PlanErrorField;

  constructor(field: PlanErrorField, message: string) {
    super(message);
    this.name = 'PlanError';
    this.field = field;
  }
}
