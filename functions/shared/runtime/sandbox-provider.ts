/**
 * The sandbox provider (AgentSphere), built on first use: only handlers that touch a sandbox
 * import it, and they read its API key from Secrets Manager (AGENTSPHERE_API_KEY_SECRET: a name
 * or ARN) only when they first call it.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { AgentSphereProvider } from '../sandbox/agentsphere/index.ts';
import { SandboxConfigurationError } from '../sandbox/errors.ts';
import type { SandboxProvider } from '../sandbox/sandbox-provider.ts';

let provider: LazySandboxProvider | undefined;

export function sandboxProvider(): SandboxProvider {
  provider ??= new LazySandboxProvider(buildProvider);
  return provider;
}

class LazySandboxProvider implements SandboxProvider {
  readonly #build: () => Promise<SandboxProvider>;
  #provider: Promise<SandboxProvider> | undefined;

  constructor(build: () => Promise<SandboxProvider>) {
    this.#build = build;
  }

  #get(): Promise<SandboxProvider> {
    this.#provider ??= this.#build().catch((error: unknown) => {
      this.#provider = undefined;
      throw error;
    });
    return this.#provider;
  }

  create: SandboxProvider['create'] = async (input) => (await this.#get()).create(input);
  connect: SandboxProvider['connect'] = async (sandboxId) => (await this.#get()).connect(sandboxId);
  list: SandboxProvider['list'] = async (filter) => (await this.#get()).list(filter);
  extendLifetime: SandboxProvider['extendLifetime'] = async (sandboxId, seconds) => (await this.#get()).extendLifetime(sandboxId, seconds);
  kill: SandboxProvider['kill'] = async (sandboxId) => (await this.#get()).kill(sandboxId);
  isAlive: SandboxProvider['isAlive'] = async (sandboxId) => (await this.#get()).isAlive(sandboxId);
}

async function buildProvider(): Promise<SandboxProvider> {
  const secretId = process.env.AGENTSPHERE_API_KEY_SECRET;
  if (!secretId) throw new SandboxConfigurationError('AGENTSPHERE_API_KEY_SECRET (the Secrets Manager secret holding the AgentSphere API key) is not set');
  const apiKey = await getSecret(secretId, { maxAge: 300 });
  if (typeof apiKey !== 'string' || !apiKey) throw new SandboxConfigurationError(`secret ${secretId} holds no AgentSphere API key`);
  return new AgentSphereProvider({
    apiKey,
    domain: process.env.AGENTSPHERE_DOMAIN ?? 'agentsphere.run',
    appUrlScheme: process.env.SANDBOX_APP_URL_SCHEME === 'http' ? 'http' : 'https',
  });
}
