/**
 * Reproduces what Step Functions sees when a Task invokes a Lambda function: the handler's
 * event, the `lambda:invoke` response envelope, and the Error/Cause a thrown error becomes.
 *
 * aws-local-stepfunctions turns a rejected task override into the state's error as
 * `{ Error: error.name, Cause: error.message }` (Retry and Catch match on `error.name`), so a
 * handler failure is rethrown as an Error whose name is Lambda's `errorType` and whose message
 * is Lambda's error document as a JSON string: exactly the Error/Cause pair AWS produces.
 */
import { randomUUID } from 'node:crypto';
import { types } from 'node:util';
import type { LambdaLikeContext } from '../lambda-context.ts';

/** Method syntax keeps the parameters bivariant, so handlers typed with a concrete event type fit. */
export type LocalLambdaHandler = {
  handle(event: unknown, context: LambdaLikeContext): unknown;
}['handle'];

/** The document the Node.js runtime reports for a failed invocation (its `toRapidResponse`). */
export interface LambdaErrorDocument {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export function lambdaErrorDocument(thrown: unknown): LambdaErrorDocument {
  try {
    if (types.isNativeError(thrown) || hasErrorShape(thrown)) {
      const error = thrown as Error & { stack: string };
      return { errorType: error.name, errorMessage: error.message, trace: error.stack.split('\n') };
    }
    return { errorType: typeof thrown, errorMessage: (thrown as { toString(): string }).toString(), trace: [] };
  } catch {
    // The runtime's own fallback when name/message/stack cannot be read (e.g. `throw null`).
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

/** The runtime's duck-typing: non-empty string name, message and stack. */
function hasErrorShape(value: unknown): boolean {
  const candidate = value as Partial<Error> | null | undefined;
  return (
    !!candidate &&
    typeof candidate.name === 'string' &&
    typeof candidate.message === 'string' &&
    typeof candidate.stack === 'string' &&
    !!candidate.name &&
    !!candidate.message &&
    !!candidate.stack
  );
}

/** The error a task override throws: the state fails with `Error` = errorType, `Cause` = the JSON document. */
export class LambdaFunctionError extends Error {
  readonly document: LambdaErrorDocument;

  constructor(document: LambdaErrorDocument) {
    super(JSON.stringify(document));
    this.name = document.errorType;
    this.document = document;
  }
}

export interface LambdaInvokeResult {
  ExecutedVersion: string;
  Payload: unknown;
  SdkHttpMetadata: {
    AllHttpHeaders: Record<string, string[]>;
    HttpHeaders: Record<string, string>;
    HttpStatusCode: number;
  };
  SdkResponseMetadata: { RequestId: string };
  StatusCode: number;
}

/** The `arn:aws:states:::lambda:invoke` result: the function's payload inside the Invoke API response. */
export function lambdaInvokeResult(payload: unknown, requestId: string, now = new Date()): LambdaInvokeResult {
  const headers: Record<string, string> = {
    Connection: 'keep-alive',
    'Content-Length': String(Buffer.byteLength(JSON.stringify(payload))),
    'Content-Type': 'application/json',
    Date: now.toUTCString(),
    'X-Amz-Executed-Version': '$LATEST',
    'x-amzn-Remapped-Content-Length': '0',
    'x-amzn-RequestId': requestId,
    'X-Amzn-Trace-Id': `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomUUID().replaceAll('-', '').slice(0, 24)};Sampled=0`,
  };
  return {
    ExecutedVersion: '$LATEST',
    Payload: payload,
    SdkHttpMetadata: {
      AllHttpHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
      HttpHeaders: headers,
      HttpStatusCode: 200,
    },
    SdkResponseMetadata: { RequestId: requestId },
    StatusCode: 200,
  };
}

/**
 * A JSON round trip, like the wire between Step Functions and Lambda: the handler gets its own
 * copy, Dates become strings, and `undefined` becomes `null` (Lambda's empty payload).
 */
export function throughJson(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? null : JSON.parse(text);
}
