/**
 * Errors of the Step Functions API. `name` is the wire `__type`, so the AWS SDK rebuilds the
 * same modeled exception class (e.g. `ExecutionDoesNotExist`) a caller catches on AWS.
 */

export type StepFunctionsErrorName =
  | 'ExecutionAlreadyExists'
  | 'ExecutionDoesNotExist'
  | 'InvalidArn'
  | 'InvalidExecutionInput'
  | 'InvalidName'
  | 'InvalidToken'
  | 'MissingRequiredParameter'
  | 'SerializationException'
  | 'StateMachineDoesNotExist'
  | 'UnknownOperationException'
  | 'ValidationException';

export class StepFunctionsServiceError extends Error {
  constructor(name: StepFunctionsErrorName, message: string) {
    super(message);
    this.name = name;
  }
}

export function executionDoesNotExist(executionArn: string): StepFunctionsServiceError {
  return new StepFunctionsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
}

export function stateMachineDoesNotExist(stateMachineArn: string): StepFunctionsServiceError {
  return new StepFunctionsServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${stateMachineArn}'`);
}

export function isStepFunctionsServiceError(error: unknown): error is StepFunctionsServiceError {
  return error instanceof StepFunctionsServiceError;
}
