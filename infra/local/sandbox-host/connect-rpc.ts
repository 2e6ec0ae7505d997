/**
 * Connect protocol (JSON codec) framing, as the SDK's connect-web transport speaks it:
 * unary calls are plain JSON; server streams are envelopes `[flags:u8][length:u32 BE][JSON]`
 * that must end with an end-stream envelope (flags 0x02).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const END_STREAM_FLAG = 0x02;

/** Connect error codes and the HTTP status a unary error is sent with. */
const HTTP_STATUS_BY_CODE = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
} as const;

export type ConnectCode = keyof typeof HTTP_STATUS_BY_CODE;

export class ConnectError extends Error {
  readonly code: ConnectCode;

  constructor(code: ConnectCode, message: string) {
    super(message);
    this.name = 'ConnectError';
    this.code = code;
  }
}

export function isStreamingRequest(request: IncomingMessage): boolean {
  return (request.headers['content-type'] ?? '').startsWith('application/connect+json');
}

/** Reads the request message of a unary call (plain JSON) or a server stream (one envelope). */
export function decodeRequestMessage(body: Buffer, streaming: boolean): unknown {
  let json = body;
  if (streaming) {
    if (body.length < 5) throw new ConnectError('invalid_argument', 'missing request envelope');
    const length = body.readUInt32BE(1);
    json = body.subarray(5, 5 + length);
  }
  if (json.length === 0) return {};
  try {
    return JSON.parse(json.toString('utf8'));
  } catch {
    throw new ConnectError('invalid_argument', 'request is not valid JSON');
  }
}

export function encodeEnvelope(message: unknown, flags = 0): Buffer {
  const json = Buffer.from(JSON.stringify(message), 'utf8');
  const header = Buffer.alloc(5);
  header.writeUInt8(flags, 0);
  header.writeUInt32BE(json.length, 1);
  return Buffer.concat([header, json]);
}

export function sendUnary(response: ServerResponse, message: unknown): void {
  const body = JSON.stringify(message);
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

export function sendUnaryError(response: ServerResponse, error: ConnectError): void {
  const body = JSON.stringify({ code: error.code, message: error.message });
  response.writeHead(HTTP_STATUS_BY_CODE[error.code], { 'content-type': 'application/json' });
  response.end(body);
}

/** An open server stream: write messages, then end it (optionally with an error). */
export class ServerStream {
  readonly #response: ServerResponse;
  #ended = false;

  constructor(response: ServerResponse) {
    this.#response = response;
    response.writeHead(200, { 'content-type': 'application/connect+json' });
    response.flushHeaders();
  }

  get open(): boolean {
    return !this.#ended && !this.#response.destroyed;
  }

  /** Runs when the client goes away or the stream ends. */
  onClose(listener: () => void): void {
    this.#response.once('close', listener);
  }

  send(message: unknown): void {
    if (this.open) this.#response.write(encodeEnvelope(message));
  }

  end(error?: ConnectError): void {
    if (!this.open) return;
    this.#ended = true;
    const trailer = error ? { error: { code: error.code, message: error.message } } : {};
    this.#response.end(encodeEnvelope(trailer, END_STREAM_FLAG));
  }
}
