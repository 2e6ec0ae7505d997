/**
 * An HTTP endpoint speaking the Step Functions wire protocol (AWS JSON 1.0), so application code
 * using `@aws-sdk/client-sfn` runs unchanged against local state machines: set the client's
 * `endpoint` to `url` (any region, dummy credentials; signatures are not checked).
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import type { ExecutionStatus } from '@aws-sdk/client-sfn';
import type { LocalStepFunctions } from './local-step-functions.ts';
import {
  StepFunctionsServiceError,
  executionDoesNotExist,
  isStepFunctionsServiceError,
  stateMachineDoesNotExist,
} from './service-errors.ts';

export interface StepFunctionsEndpointOptions {
  /** 0 picks a free port. */
  port?: number;
  host?: string;
}

export interface StepFunctionsEndpoint {
  url: string;
  close(): Promise<void>;
}

type Body = Record<string, unknown>;
type Operation = (services: LocalStepFunctions[], body: Body) => unknown;

const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const DEFAULT_PAGE_SIZE = 100;

export async function startStepFunctionsEndpoint(
  service: LocalStepFunctions | LocalStepFunctions[],
  { port = 0, host = '127.0.0.1' }: StepFunctionsEndpointOptions = {},
): Promise<StepFunctionsEndpoint> {
  const services = [service].flat();
  const server = createServer((request, response) => {
    handleRequest(services, request, response).catch((error: unknown) => sendError(response, error));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

const operations: Record<string, Operation> = {
  StartExecution(services, body) {
    const service = serviceForStateMachine(services, requiredString(body, 'stateMachineArn'));
    const result = service.startExecution({ name: optionalString(body, 'name'), input: optionalString(body, 'input') ?? '{}' });
    return { executionArn: result.executionArn, startDate: epochSeconds(result.startDate) };
  },

  DescribeExecution(services, body) {
    const executionArn = requiredString(body, 'executionArn');
    return withEpochDates(serviceForExecution(services, executionArn).describeExecution(executionArn));
  },

  StopExecution(services, body) {
    const executionArn = requiredString(body, 'executionArn');
    const { stopDate } = serviceForExecution(services, executionArn).stopExecution(executionArn, {
      error: optionalString(body, 'error'),
      cause: optionalString(body, 'cause'),
    });
    return { stopDate: epochSeconds(stopDate) };
  },

  ListExecutions(services, body) {
    const service = serviceForStateMachine(services, requiredString(body, 'stateMachineArn'));
    const statusFilter = optionalString(body, 'statusFilter') as ExecutionStatus | undefined;
    const executions = service.listExecutions({ statusFilter }).map(withEpochDates);
    // The token is the offset of the next page: enough for local paging.
    const start = Number(optionalString(body, 'nextToken') ?? 0);
    const pageSize = Number(body.maxResults) > 0 ? Number(body.maxResults) : DEFAULT_PAGE_SIZE;
    const end = start + pageSize;
    return { executions: executions.slice(start, end), nextToken: end < executions.length ? String(end) : undefined };
  },

  DescribeStateMachine(services, body) {
    const service = serviceForStateMachine(services, requiredString(body, 'stateMachineArn'));
    return {
      stateMachineArn: service.stateMachineArn,
      name: service.stateMachineName,
      status: 'ACTIVE',
      definition: JSON.stringify(service.definition),
      roleArn: service.roleArn,
      type: 'STANDARD',
      creationDate: epochSeconds(service.creationDate),
    };
  },
};

async function handleRequest(services: LocalStepFunctions[], request: IncomingMessage, response: ServerResponse): Promise<void> {
  const target = String(request.headers['x-amz-target'] ?? '');
  const operation = request.method === 'POST' && target.startsWith(TARGET_PREFIX) ? operations[target.slice(TARGET_PREFIX.length)] : undefined;
  const text = await readBody(request);
  if (!operation) {
    throw new StepFunctionsServiceError('UnknownOperationException', `Unsupported operation: ${target || `${request.method} ${request.url}`}`);
  }
  send(response, 200, withoutUndefined(operation(services, parseBody(text))));
}

function serviceForStateMachine(services: LocalStepFunctions[], stateMachineArn: string): LocalStepFunctions {
  const service = services.find((candidate) => candidate.stateMachineArn === stateMachineArn);
  if (!service) throw stateMachineDoesNotExist(stateMachineArn);
  return service;
}

function serviceForExecution(services: LocalStepFunctions[], executionArn: string): LocalStepFunctions {
  // arn:aws:states:<region>:<account>:execution:<machine>:<name> belongs to ...:stateMachine:<machine>
  const match = /^(arn:[^:]+:states:[^:]*:[^:]*):execution:([^:]+):[^:]+$/.exec(executionArn);
  if (!match) throw new StepFunctionsServiceError('InvalidArn', `Invalid Arn: '${executionArn}'`);
  const stateMachineArn = `${match[1]}:stateMachine:${match[2]}`;
  const service = services.find((candidate) => candidate.stateMachineArn === stateMachineArn);
  if (!service) throw executionDoesNotExist(executionArn);
  return service;
}

/** The service's timestamps are epoch seconds with a fraction: `1718000000.123`. */
function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function withEpochDates<T extends { startDate?: Date; stopDate?: Date }>(value: T) {
  return {
    ...value,
    startDate: value.startDate && epochSeconds(value.startDate),
    stopDate: value.stopDate && epochSeconds(value.stopDate),
  };
}

function withoutUndefined(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {}));
}

function requiredString(body: Body, field: string): string {
  const value = body[field];
  if (typeof value !== 'string' || value === '') {
    throw new StepFunctionsServiceError('MissingRequiredParameter', `Missing required parameter: '${field}'`);
  }
  return value;
}

function optionalString(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new StepFunctionsServiceError('SerializationException', `Expected a string for '${field}'`);
  return value;
}

function parseBody(text: string): Body {
  try {
    const body: unknown = text ? JSON.parse(text) : {};
    if (body && typeof body === 'object' && !Array.isArray(body)) return body as Body;
  } catch {
    // Reported below like the service does for a body it cannot read.
  }
  throw new StepFunctionsServiceError('SerializationException', 'The request body is not a JSON object');
}

/** Step Functions' own limit on a request is 1 MiB (256 KB of execution input). */
const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new StepFunctionsServiceError('SerializationException', `the request body exceeds ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, statusCode: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(statusCode, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': Buffer.byteLength(text),
    'x-amzn-RequestId': randomUUID(),
    ...headers,
  });
  response.end(text);
}

/** AWS JSON 1.0 errors: `__type` in the body and `x-amzn-ErrorType` header; client faults are 400. */
function sendError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const [statusCode, type, message] = isStepFunctionsServiceError(error)
    ? [400, error.name, error.message]
    : [500, 'InternalFailure', (error as Error)?.message ?? String(error)];
  if (statusCode === 500) console.error('Step Functions endpoint: unexpected error', error);
  send(response, statusCode, { __type: type, message }, { 'x-amzn-ErrorType': type });
}
