/**
 * Turns the `AWS::StepFunctions::StateMachine` resource of a CDK-synthesized template into plain
 * Amazon States Language that aws-local-stepfunctions can run.
 */
import type { StateMachineDefinition } from 'aws-local-stepfunctions';
import { createIntrinsicResolver } from './cfn-intrinsics.ts';
import type { CfnResource, CfnTemplate, IntrinsicResolverOptions } from './cfn-intrinsics.ts';

export { lambdaTasks } from './lambda-tasks.ts';
export type { LambdaTask } from './lambda-tasks.ts';
export { localLambdaArn } from './cfn-intrinsics.ts';
export type { CfnTemplate, IntrinsicResolverOptions } from './cfn-intrinsics.ts';

const STATE_MACHINE_TYPE = 'AWS::StepFunctions::StateMachine';

export interface ResolvedStateMachine {
  logicalId: string;
  /** `StateMachineName` when the stack sets one, else the logical id. */
  name: string;
  definition: StateMachineDefinition;
}

export function resolveStateMachineDefinition(
  template: CfnTemplate,
  stateMachineLogicalId?: string,
  options: IntrinsicResolverOptions = {},
): StateMachineDefinition {
  return resolveStateMachine(template, stateMachineLogicalId, options).definition;
}

export function resolveStateMachine(
  template: CfnTemplate,
  stateMachineLogicalId?: string,
  options: IntrinsicResolverOptions = {},
): ResolvedStateMachine {
  const [logicalId, resource] = findStateMachineResource(template, stateMachineLogicalId);
  const { resolve } = createIntrinsicResolver(template, options);
  const properties = resource.Properties ?? {};
  const substitutions = (resolve(properties.DefinitionSubstitutions) ?? {}) as Record<string, unknown>;
  const definition = definitionFromProperties(logicalId, properties, resolve, substitutions);
  const name = resolve(properties.StateMachineName);
  return { logicalId, name: typeof name === 'string' ? name : logicalId, definition };
}

function findStateMachineResource(template: CfnTemplate, logicalId?: string): [string, CfnResource] {
  const resources = Object.entries(template.Resources ?? {});
  if (logicalId !== undefined) {
    const match = resources.find(([id]) => id === logicalId);
    if (!match || match[1].Type !== STATE_MACHINE_TYPE) {
      throw new Error(`Template has no ${STATE_MACHINE_TYPE} with logical id ${logicalId}`);
    }
    return match;
  }
  const machines = resources.filter(([, resource]) => resource.Type === STATE_MACHINE_TYPE);
  const [only] = machines;
  if (machines.length !== 1 || !only) {
    const ids = machines.map(([id]) => id).join(', ') || 'none';
    throw new Error(`Expected exactly one ${STATE_MACHINE_TYPE}, found ${machines.length} (${ids}): pass its logical id`);
  }
  return only;
}

function definitionFromProperties(
  logicalId: string,
  properties: Record<string, unknown>,
  resolve: (value: unknown) => unknown,
  substitutions: Record<string, unknown>,
): StateMachineDefinition {
  if (properties.DefinitionString !== undefined) {
    const text = resolve(properties.DefinitionString);
    if (typeof text !== 'string') throw new Error(`${logicalId}.DefinitionString did not resolve to a string`);
    return parseDefinition(logicalId, substitute(text, substitutions));
  }
  if (properties.Definition !== undefined) {
    // The object form: substitutions apply inside string values, never to the JSON structure.
    return substituteInStrings(resolve(properties.Definition), substitutions) as StateMachineDefinition;
  }
  throw new Error(`${logicalId} has neither DefinitionString nor Definition (DefinitionS3Location is not supported locally)`);
}

function parseDefinition(logicalId: string, text: string): StateMachineDefinition {
  try {
    return JSON.parse(text) as StateMachineDefinition;
  } catch (error) {
    throw new Error(`${logicalId} definition is not valid JSON after resolution: ${(error as Error).message}`);
  }
}

/** Replaces `${name}` for each DefinitionSubstitutions key, textually, as CloudFormation does. */
function substitute(text: string, substitutions: Record<string, unknown>): string {
  return text.replace(/\$\{([^}]+)\}/g, (placeholder, name: string) =>
    name in substitutions ? String(substitutions[name]) : placeholder,
  );
}

function substituteInStrings(value: unknown, substitutions: Record<string, unknown>): unknown {
  if (typeof value === 'string') return substitute(value, substitutions);
  if (Array.isArray(value)) return value.map((item) => substituteInStrings(item, substitutions));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, substituteInStrings(child, substitutions)]));
  }
  return value;
}
