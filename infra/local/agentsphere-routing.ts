/**
 * Sends the AgentSphere SDK's requests to the local sandbox host. The SDK builds
 * `https://api.<domain>` and `https://<port>-<id>.<domain>` URLs and fetches them with Node's
 * fetch (undici); the global dispatcher installed here sends those hosts to the local host over
 * plain HTTP, keeping the Host header it routes by, and refuses every other origin that is not
 * loopback, so nothing reaches the real cloud by mistake.
 *
 * Only the local stack and tests call this. Lambda code never does.
 */
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';

export interface LocalRoutingOptions {
  /** The local sandbox host, e.g. `http://127.0.0.1:4567`. */
  hostUrl: string;
  /** The domain the SDK is configured with (AGENTSPHERE_DOMAIN), e.g. `agentsphere.test`. */
  domain: string;
}

export class BlockedOriginError extends Error {
  constructor(origin: string) {
    super(`request to ${origin} refused: the local stack only talks to loopback and the local sandbox host`);
    this.name = 'BlockedOriginError';
  }
}

/** Installs the routing dispatcher; returns a function that puts the previous one back. */
export function routeAgentSphereToLocalHost(options: LocalRoutingOptions): () => void {
  const previous = getGlobalDispatcher();
  const agent = new Agent({ keepAliveTimeout: 4_000 });
  setGlobalDispatcher(agent.compose(localRouting(options)));
  return () => {
    setGlobalDispatcher(previous);
    void agent.close();
  };
}

function localRouting({ hostUrl, domain }: LocalRoutingOptions): Dispatcher.DispatcherComposeInterceptor {
  const suffix = `.${domain.replace(/:\d+$/, '').toLowerCase()}`;
  const hostOrigin = new URL(hostUrl).origin;
  return (dispatch) => (request, handler) => {
    const origin = new URL(String(request.origin));
    const hostname = origin.hostname.toLowerCase();
    if (hostname.endsWith(suffix)) {
      return dispatch({ ...request, origin: hostOrigin, headers: withHost(request.headers, origin.host) }, handler);
    }
    if (isLoopback(hostname)) return dispatch(request, handler);
    throw new BlockedOriginError(origin.origin);
  };
}

function isLoopback(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

type Headers = Dispatcher.DispatchOptions['headers'];

/** The request's headers with `host` set to the original host name. */
function withHost(headers: Headers, host: string): Headers {
  const pairs: string[] = [];
  if (Array.isArray(headers)) {
    for (let index = 0; index < headers.length; index += 2) {
      if (String(headers[index]).toLowerCase() !== 'host') pairs.push(String(headers[index]), String(headers[index + 1]));
    }
  } else if (headers && typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [name, value] of headers as Iterable<[string, string | string[]]>) {
      if (name.toLowerCase() !== 'host') for (const item of [value].flat()) pairs.push(name, String(item));
    }
  } else if (headers) {
    for (const [name, value] of Object.entries(headers)) {
      if (name.toLowerCase() !== 'host' && value !== undefined) for (const item of [value].flat()) pairs.push(name, String(item));
    }
  }
  pairs.push('host', host);
  return pairs;
}
