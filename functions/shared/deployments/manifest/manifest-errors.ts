/** Errors of manifest deployments, each with the fields a caller must fix (answered 400). */
import { DeploymentError } from '../errors.ts';
import type { FieldProblem } from '../deployment-request.ts';

/** The build plan reads files whose contents are neither inline nor held by the service. */
export class ManifestContentNeededError extends DeploymentError {
  readonly problems: FieldProblem[];

  constructor(problems: FieldProblem[]) {
    super(`the build plan reads ${problems.length} file(s) whose content must be sent inline: ${problems.map((problem) => problem.field).join(', ')}`);
    this.name = 'ManifestContentNeededError';
    this.problems = problems;
  }
}

/** A completion call whose uploads do not match the manifest: nothing was started. */
export class UploadRefusedError extends DeploymentError {
  readonly problems: FieldProblem[];

  constructor(problems: FieldProblem[]) {
    super(`the upload is incomplete or wrong: ${problems.slice(0, 5).map((problem) => problem.message).join('; ')}${problems.length > 5 ? '; ...' : ''}`);
    this.name = 'UploadRefusedError';
    this.problems = problems;
  }
}
