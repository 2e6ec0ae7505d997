/**
 * The sandbox provider (AgentSphere), built on first use: only handlers that touch a sandbox
 * import it, and they read its API key from Secrets Manager (AGENTSPHERE_API_KEY_SECRET: a name
 * or ARN) only when they first call it, and again after the provider refused it.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { AgentSphereProvider } from '../sandbox/agentsphere/index.ts';
import { SandboxConfigurationError, SandboxUnauthorizedError } from '../sandbox/errors.ts';
import type { SandboxProvider } from '../sandbox/sandbox-provider.ts';
import { currentInvocationDeadline } from './invocation-deadline.ts';

let provider: LazySandboxProvider | undefined;

export function sandboxProvider(): SandboxProvider {
  provider ??= new LazySandboxProvider(buildProvider);
  return provider;
}

/**
 * Builds the provider on first use and keeps it for the container's life, except when the
 * provider refuses the API key: then the key was rotated, so the cached provider and secret are
 * dropped and the call is tried once more with the key read anew.
 */
class LazySandboxProvider implements SandboxProvider {
  readonly #build: (options: { fresh: boolean }) => Promise<SandboxProvider>;
  #provider: Promise<SandboxProvider> | undefined;

  constructor(build: (options: { fresh: boolean }) => Promise<SandboxProvider>) {
    this.#build = build;
  }

  #get(fresh = false): Promise<SandboxProvider> {
    if (fresh) this.#provider = undefined;
    this.#provider ??= this.#build({ fresh }).catch((error: unknown) => {
      this.#provider = undefined;
      throw error;
    });
    return this.#provider;
  }

  async #call<Result>(call: (provider: SandboxProvider) => Promise<Result>): Promise<Result> {
    try {
      return await call(await this.#get());
    } catch (error) {
      if (!(error instanceof SandboxUnauthorizedError)) throw error;
      return call(await this.#get(true));
    }
  }

  create: SandboxProvider['create'] = (input) => this.#call((provider) => provider.create(input));
  connect: SandboxProvider['connect'] = (sandboxId) => this.#call((provider) => provider.connect(sandboxId));
  list: SandboxProvider['list'] = (filter) => this.#call((provider) => provider.list(filter));
  extendLifetime: SandboxProvider['extendLifetime'] = (sandboxId, seconds) => this.#call((provider) => provider.extendLifetime(sandboxId, seconds));
  kill: SandboxProvider['kill'] = (sandboxId) => this.#call((provider) => provider.kill(sandboxId));
  isAlive: SandboxProvider['isAlive'] = (sandboxId) => this.#call((provider) => provider.isAlive(sandboxId));
}

async function buildProvider({ fresh }: { fresh: boolean }): Promise<SandboxProvider> {
  const secretId = process.env.AGENTSPHERE_API_KEY_SECRET;
  if (!secretId) throw new SandboxConfigurationError('AGENTSPHERE_API_KEY_SECRET (the Secrets Manager secret holding the AgentSphere API key) is not set');
  const apiKey = await getSecret(secretId, { maxAge: 300, ...(fresh ? { forceFetch: true } : {}) });
  if (typeof apiKey !== 'string' || !apiKey) throw new SandboxConfigurationError(`secret ${secretId} holds no AgentSphere API key`);
  return new AgentSphereProvider({
    apiKey,
    domain: process.env.AGENTSPHERE_DOMAIN ?? 'agentsphere.run',
    appUrlScheme: process.env.SANDBOX_APP_URL_SCHEME === 'http' ? 'http' : 'https',
    // Timeouts and retries fit what is left of whichever invocation makes the call.
    deadline: currentInvocationDeadline,
  });
}
