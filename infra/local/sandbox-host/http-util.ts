import type { IncomingMessage, ServerResponse } from 'node:http';

export const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;

export async function readBody(request: IncomingMessage, limit = MAX_JSON_BODY_BYTES): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, `request body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

/** The cloud's error body: `{"code": <status>, "message": "..."}`; the SDK needs it non-empty. */
export function sendError(response: ServerResponse, status: number, message: string): void {
  sendJson(response, status, { code: status, message });
}

export function sendNoContent(response: ServerResponse): void {
  response.writeHead(204);
  response.end();
}

/** An error the host answers with its status and the cloud's JSON error body. */
export class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}
