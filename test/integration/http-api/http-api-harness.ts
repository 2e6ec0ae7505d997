import type { APIGatewayProxyEventV2WithJWTAuthorizer, Context } from 'aws-lambda';
import { createLocalJwtAuthority, type LocalJwtAuthority } from '../../../infra/local/http-api/local-jwt.ts';
import {
  startLocalHttpApi,
  type HttpApiHandler,
  type LocalHttpApi,
  type LocalHttpApiOptions,
} from '../../../infra/local/http-api/local-http-api.ts';

export interface Invocation {
  event: APIGatewayProxyEventV2WithJWTAuthorizer;
  context: Context;
  remainingMs: number;
}

/** A handler that remembers every call and answers with `answer(event)`. */
export interface RecordingHandler {
  readonly handler: HttpApiHandler;
  readonly calls: Invocation[];
  readonly last: Invocation;
}

export function recordingHandler(answer: (event: APIGatewayProxyEventV2WithJWTAuthorizer) => unknown = () => ({ ok: true })): RecordingHandler {
  const calls: Invocation[] = [];
  return {
    calls,
    get last() {
      const call = calls.at(-1);
      if (!call) throw new Error('the handler was not called');
      return call;
    },
    handler: async (event: APIGatewayProxyEventV2WithJWTAuthorizer, context: Context) => {
      calls.push({ event, context, remainingMs: context.getRemainingTimeInMillis() });
      return answer(event);
    },
  };
}

export interface ApiUnderTest {
  api: LocalHttpApi;
  jwt: LocalJwtAuthority;
  /** Gateway log lines (errors, warnings) instead of stderr noise. */
  logs: string[];
  /** fetch against the API, with a valid token for `subject` unless `token: null`. */
  call(path: string, init?: RequestInit & { token?: string | null; subject?: string }): Promise<Response>;
  stop(): Promise<void>;
}

export async function startApiUnderTest(
  options: Omit<LocalHttpApiOptions, 'jwt' | 'log'> & { jwt?: LocalJwtAuthority },
): Promise<ApiUnderTest> {
  const jwt = options.jwt ?? (await createLocalJwtAuthority());
  const logs: string[] = [];
  const api = await startLocalHttpApi({ ...options, jwt, log: (line) => logs.push(line) });
  return {
    api,
    jwt,
    logs,
    async call(path, { token, subject = 'user-1', headers, ...init } = {}) {
      const bearer = token === undefined ? await jwt.issueToken(subject) : token;
      const authorization: Record<string, string> = bearer === null ? {} : { authorization: `Bearer ${bearer}` };
      return fetch(`${api.url}${path}`, { ...init, headers: { ...authorization, ...(headers as Record<string, string>) } });
    },
    stop: () => api.close(),
  };
}
