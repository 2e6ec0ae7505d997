/**
 * One webhook POST, to a target checked as it is connected to: the host name is resolved by our
 * own lookup, which refuses the connection when any address it resolves to is not allowed, so
 * the address checked is the address connected to (no window for DNS rebinding). Redirects are
 * not followed; a 2xx is success, anything else a failed attempt.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressProblem, callbackUrlProblem, hostOf, type CallbackUrlPolicy } from './callback-url.ts';
import { WebhookRequestError, WebhookTargetRefusedError } from './errors.ts';

export interface WebhookPost {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  policy: CallbackUrlPolicy;
}

export interface WebhookAnswer {
  statusCode: number;
}

/** Bytes of the answer read before the connection is dropped: receivers need only answer a status. */
const MAX_ANSWER_BYTES = 16 * 1024;

export async function postWebhook(post: WebhookPost): Promise<WebhookAnswer> {
  const problem = callbackUrlProblem(post.url, post.policy);
  if (problem) throw new WebhookTargetRefusedError(`callbackUrl ${problem}`);
  const url = new URL(post.url);
  const host = hostOf(url);
  // An address literal is connected to without a lookup: checked here instead.
  if (isIP(host)) {
    const refused = addressProblem(host, post.policy);
    if (refused) throw new WebhookTargetRefusedError(`callbackUrl ${refused}`);
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<WebhookAnswer>((resolve, reject) => {
    const request = send(
      url,
      {
        method: 'POST',
        headers: { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) },
        lookup: checkedLookup(post.policy),
        signal: AbortSignal.timeout(post.timeoutMs),
      },
      (response: IncomingMessage) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) response.destroy();
        });
        response.on('close', () => resolve({ statusCode: response.statusCode ?? 0 }));
        response.on('error', () => resolve({ statusCode: response.statusCode ?? 0 }));
      },
    );
    request.on('error', (error: Error) => {
      if (error instanceof WebhookTargetRefusedError) return reject(error);
      const timedOut = error.name === 'AbortError' || error.name === 'TimeoutError';
      reject(new WebhookRequestError(timedOut ? `no answer within ${post.timeoutMs} ms` : `${error.name}: ${error.message}`, { cause: error }));
    });
    request.end(post.body);
  });
}

/** dns.lookup, refusing every answer that contains an address the policy does not allow. */
export function checkedLookup(policy: CallbackUrlPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error, '', 0);
      for (const { address } of addresses) {
        const refused = addressProblem(address, policy);
        if (refused) return callback(new WebhookTargetRefusedError(`callbackUrl host ${hostname} resolves to ${address}, which is refused: ${refused}`), '', 0);
      }
      if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return (callback as unknown as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
