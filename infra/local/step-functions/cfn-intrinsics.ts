/**
 * Resolves the CloudFormation intrinsic functions CDK emits in a synthesized template (Ref,
 * Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select, Fn::Split) to local values, with no AWS account.
 *
 * Locally every resource's physical name is its logical id, and a Lambda function's ARN is a fake
 * one that carries that logical id, so a state machine task can be mapped back to its handler.
 */

export type CfnTemplate = {
  Parameters?: Record<string, { Type?: string; Default?: unknown }>;
  Resources?: Record<string, CfnResource>;
  [key: string]: unknown;
};

export type CfnResource = {
  Type: string;
  Properties?: Record<string, unknown>;
  [key: string]: unknown;
};

export interface IntrinsicResolverOptions {
  region?: string;
  accountId?: string;
  partition?: string;
  urlSuffix?: string;
  stackName?: string;
  /** Values for `Ref` by logical id or parameter name, to point at real local resources. */
  refs?: Record<string, unknown>;
  /** Values for `Fn::GetAtt` keyed `LogicalId.Attribute`. */
  attributes?: Record<string, unknown>;
}

export const LOCAL_REGION = 'local';
export const LOCAL_ACCOUNT_ID = '000000000000';

/** `arn:aws:lambda:local:000000000000:function:<LogicalId>`: the function is found again by its logical id. */
export function localLambdaArn(
  logicalId: string,
  { partition = 'aws', region = LOCAL_REGION, accountId = LOCAL_ACCOUNT_ID } = {},
): string {
  return `arn:${partition}:lambda:${region}:${accountId}:function:${logicalId}`;
}

/** Marks `{"Ref": "AWS::NoValue"}`: the enclosing array element or property is dropped. */
const NO_VALUE = Symbol('AWS::NoValue');

export class UnsupportedIntrinsicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedIntrinsicError';
  }
}

export function createIntrinsicResolver(template: CfnTemplate, options: IntrinsicResolverOptions = {}) {
  const settings = {
    region: options.region ?? LOCAL_REGION,
    accountId: options.accountId ?? LOCAL_ACCOUNT_ID,
    partition: options.partition ?? 'aws',
    urlSuffix: options.urlSuffix ?? 'amazonaws.com',
    stackName: options.stackName ?? 'local',
  };
  const resources = template.Resources ?? {};
  const parameters = template.Parameters ?? {};

  function resolve(value: unknown): unknown {
    const resolved = resolveAny(value);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  function resolveAny(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(resolveAny).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value);
    const [first] = entries;
    if (entries.length === 1 && first && isIntrinsicKey(first[0])) return resolveIntrinsic(first[0], first[1]);
    const result: Record<string, unknown> = {};
    for (const [key, child] of entries) {
      const resolved = resolveAny(child);
      if (resolved !== NO_VALUE) result[key] = resolved;
    }
    return result;
  }

  function resolveIntrinsic(name: string, argument: unknown): unknown {
    switch (name) {
      case 'Ref':
        return ref(expectString(argument, 'Ref'));
      case 'Fn::GetAtt':
        return getAtt(argument);
      case 'Fn::Join':
        return join(argument);
      case 'Fn::Sub':
        return sub(argument);
      case 'Fn::Select':
        return select(argument);
      case 'Fn::Split':
        return split(argument);
      default:
        throw new UnsupportedIntrinsicError(`${name} is not supported by the local template resolver`);
    }
  }

  function ref(name: string): unknown {
    const pseudo = pseudoParameter(name);
    if (pseudo !== undefined) return pseudo;
    if (options.refs && name in options.refs) return options.refs[name];
    const parameter = parameters[name];
    if (parameter) {
      if (parameter.Default === undefined) throw new UnsupportedIntrinsicError(`Parameter ${name} has no Default`);
      return parameter.Default;
    }
    if (resources[name]) return name;
    throw new UnsupportedIntrinsicError(`Ref to unknown parameter or resource ${name}`);
  }

  function pseudoParameter(name: string): unknown {
    switch (name) {
      case 'AWS::Region':
        return settings.region;
      case 'AWS::AccountId':
        return settings.accountId;
      case 'AWS::Partition':
        return settings.partition;
      case 'AWS::URLSuffix':
        return settings.urlSuffix;
      case 'AWS::StackName':
        return settings.stackName;
      case 'AWS::StackId':
        return `arn:${settings.partition}:cloudformation:${settings.region}:${settings.accountId}:stack/${settings.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NotificationARNs':
        return [];
      case 'AWS::NoValue':
        return NO_VALUE;
      default:
        return undefined;
    }
  }

  function getAtt(argument: unknown): unknown {
    // Both `["Id", "Attr"]` and the short `"Id.Attr"` string form.
    const [logicalId, attribute] =
      typeof argument === 'string' ? splitOnce(argument, '.') : (expectArray(argument, 'Fn::GetAtt').map(resolve) as [unknown, unknown]);
    if (typeof logicalId !== 'string' || typeof attribute !== 'string') {
      throw new UnsupportedIntrinsicError(`Fn::GetAtt needs a logical id and an attribute, got ${JSON.stringify(argument)}`);
    }
    const key = `${logicalId}.${attribute}`;
    if (options.attributes && key in options.attributes) return options.attributes[key];
    const resource = resources[logicalId];
    if (!resource) throw new UnsupportedIntrinsicError(`Fn::GetAtt to unknown resource ${logicalId}`);
    if (attribute === 'Arn') return localArn(logicalId, resource.Type);
    // Anything else has no meaningful local value; a stable placeholder keeps the definition parseable.
    return key;
  }

  function localArn(logicalId: string, type: string): string {
    const { partition, region, accountId } = settings;
    switch (type) {
      case 'AWS::Lambda::Function':
        return localLambdaArn(logicalId, settings);
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        return `arn:${partition}:dynamodb:${region}:${accountId}:table/${logicalId}`;
      case 'AWS::S3::Bucket':
        return `arn:${partition}:s3:::${logicalId}`;
      case 'AWS::IAM::Role':
        return `arn:${partition}:iam::${accountId}:role/${logicalId}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:${partition}:states:${region}:${accountId}:stateMachine:${logicalId}`;
      default: {
        const service = type.split('::')[1]?.toLowerCase() ?? 'unknown';
        return `arn:${partition}:${service}:${region}:${accountId}:${logicalId}`;
      }
    }
  }

  function join(argument: unknown): string {
    const [delimiter, list] = expectArray(argument, 'Fn::Join');
    const items = resolve(list);
    if (typeof delimiter !== 'string' || !Array.isArray(items)) {
      throw new UnsupportedIntrinsicError('Fn::Join needs [delimiter, [values]]');
    }
    return items.map((item) => asText(item, 'Fn::Join')).join(delimiter);
  }

  function sub(argument: unknown): string {
    const [text, variables] = typeof argument === 'string' ? [argument, {}] : expectArray(argument, 'Fn::Sub');
    if (typeof text !== 'string') throw new UnsupportedIntrinsicError('Fn::Sub needs a template string');
    const resolvedVariables = (resolve(variables ?? {}) ?? {}) as Record<string, unknown>;
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_match, literal: string, name: string) => {
      // `${!Literal}` is CloudFormation's escape for a literal `${Literal}`.
      if (literal) return `\${${name}}`;
      const trimmed = name.trim();
      if (trimmed in resolvedVariables) return asText(resolvedVariables[trimmed], 'Fn::Sub');
      const value = trimmed.includes('.') && !trimmed.startsWith('AWS::') ? getAtt(trimmed) : ref(trimmed);
      return asText(value, 'Fn::Sub');
    });
  }

  function select(argument: unknown): unknown {
    const [index, list] = expectArray(argument, 'Fn::Select');
    const position = Number(resolve(index));
    const items = resolve(list);
    if (!Array.isArray(items) || !Number.isInteger(position) || position < 0 || position >= items.length) {
      throw new UnsupportedIntrinsicError(`Fn::Select index ${String(index)} is out of range`);
    }
    return items[position];
  }

  function split(argument: unknown): string[] {
    const [delimiter, source] = expectArray(argument, 'Fn::Split');
    const text = resolve(source);
    if (typeof delimiter !== 'string' || typeof text !== 'string') {
      throw new UnsupportedIntrinsicError('Fn::Split needs [delimiter, string]');
    }
    return text.split(delimiter);
  }

  return { resolve };
}

function isIntrinsicKey(key: string): boolean {
  return key === 'Ref' || key.startsWith('Fn::');
}

function expectString(value: unknown, intrinsic: string): string {
  if (typeof value !== 'string') throw new UnsupportedIntrinsicError(`${intrinsic} needs a string, got ${JSON.stringify(value)}`);
  return value;
}

function expectArray(value: unknown, intrinsic: string): unknown[] {
  if (!Array.isArray(value)) throw new UnsupportedIntrinsicError(`${intrinsic} needs an array, got ${JSON.stringify(value)}`);
  return value;
}

function asText(value: unknown, intrinsic: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UnsupportedIntrinsicError(`${intrinsic} can only concatenate strings, got ${JSON.stringify(value)}`);
}

function splitOnce(text: string, separator: string): [string, string] {
  const index = text.indexOf(separator);
  return index < 0 ? [text, ''] : [text.slice(0, index), text.slice(index + 1)];
}
