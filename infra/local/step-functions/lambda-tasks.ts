/**
 * Finds the Task states that invoke a Lambda function, at any depth (Map item processors and
 * Parallel branches included), and the function each one calls.
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';

export interface LambdaTask {
  /** State names are unique across a whole state machine, nested ones included. */
  stateName: string;
  /** The function name inside the ARN: the logical id, for ARNs made by the local resolver. */
  functionLogicalId: string;
  /** The FunctionName (or Resource) as written, qualifier included. */
  functionArn: string;
  /**
   * `invoke`: `arn:aws:states:::lambda:invoke`, the optimized integration CDK's LambdaInvoke emits
   * (input under `Payload`, result wrapped). `direct`: the function ARN as the Resource (CDK's
   * `payloadResponseOnly`), input and result unwrapped.
   */
  integration: 'invoke' | 'direct';
  /** The Task's TimeoutSeconds, when it is a literal. */
  timeoutSeconds?: number;
}

type LooseState = Record<string, unknown> & { Type?: string };
type LooseMachine = { States?: Record<string, LooseState> };

const LAMBDA_INVOKE_RESOURCE = /^arn:[^:]+:states:::lambda:invoke$/;
const LAMBDA_FUNCTION_ARN = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:[^:]+(:[^:]+)?$/;

export function lambdaTasks(definition: StateMachineDefinition): LambdaTask[] {
  return Array.from(walkStates(definition)).flatMap(([stateName, state]) => {
    const task = state.Type === 'Task' ? lambdaTaskOf(stateName, state) : undefined;
    return task ? [task] : [];
  });
}

/** Every state of the machine, depth first, as `[name, state]`. */
export function* walkStates(machine: StateMachineDefinition | LooseMachine): Generator<[string, LooseState]> {
  for (const [name, state] of Object.entries((machine as LooseMachine).States ?? {})) {
    yield [name, state];
    if (state.Type === 'Map') {
      const processor = (state.ItemProcessor ?? state.Iterator) as LooseMachine | undefined;
      if (processor) yield* walkStates(processor);
    }
    if (state.Type === 'Parallel') {
      for (const branch of (state.Branches ?? []) as LooseMachine[]) yield* walkStates(branch);
    }
  }
}

function lambdaTaskOf(stateName: string, state: LooseState): LambdaTask | undefined {
  const resource = String(state.Resource ?? '');
  const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
  if (LAMBDA_INVOKE_RESOURCE.test(resource)) {
    const functionArn = invokedFunctionName(stateName, state);
    return { stateName, functionLogicalId: functionNameOf(functionArn), functionArn, integration: 'invoke', timeoutSeconds };
  }
  if (LAMBDA_FUNCTION_ARN.test(resource)) {
    return { stateName, functionLogicalId: functionNameOf(resource), functionArn: resource, integration: 'direct', timeoutSeconds };
  }
  return undefined;
}

function invokedFunctionName(stateName: string, state: LooseState): string {
  const parameters = (state.Parameters ?? {}) as Record<string, unknown>;
  const functionName = parameters.FunctionName;
  if (typeof functionName !== 'string') {
    // `FunctionName.$` picks the function at run time: no static mapping to a handler exists.
    throw new Error(`Task ${stateName} has no literal Parameters.FunctionName, so it cannot be mapped to a local handler`);
  }
  return functionName;
}

/**
 * The bare function name from any form Lambda accepts: a full ARN (optionally qualified, e.g.
 * `...:function:Fn:$LATEST`), a partial ARN (`123456789012:function:Fn`), or `Fn[:qualifier]`.
 */
export function functionNameOf(functionNameOrArn: string): string {
  const parts = functionNameOrArn.split(':');
  if (functionNameOrArn.startsWith('arn:')) return parts[6] ?? functionNameOrArn;
  if (parts[1] === 'function') return parts[2] ?? functionNameOrArn;
  return parts[0] ?? functionNameOrArn;
}
