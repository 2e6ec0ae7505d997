/**
 * The composition root: builds adapters from configuration once per Lambda container. Endpoints
 * come from the AWS SDK's own configuration (AWS_ENDPOINT_URL_<SERVICE>, region, credentials),
 * so the same code runs against AWS and against the local stack.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { DynamoDbDeploymentRepository } from '../adapters/dynamodb-deployment-repository.ts';
import { S3FileStaging } from '../adapters/s3-file-staging.ts';
import { S3LogArchive } from '../adapters/s3-log-archive.ts';
import { SfnWorkflows } from '../adapters/sfn-workflows.ts';
import type { DeploymentDependencies } from '../deployments/dependencies.ts';
import { AgentSphereProvider } from '../sandbox/agentsphere/index.ts';
import { SandboxConfigurationError } from '../sandbox/errors.ts';
import type { SandboxProvider } from '../sandbox/sandbox-provider.ts';
import { requiredEnv } from './environment.ts';

let dynamoDb: DynamoDBClient | undefined;
let cached: Promise<DeploymentDependencies> | undefined;

export function dynamoDbClient(): DynamoDBClient {
  dynamoDb ??= new DynamoDBClient({});
  return dynamoDb;
}

/** The sweep's claims and cursors live in the deployments table. */
export function sweepBookkeeping(): DynamoDbDeploymentRepository {
  return new DynamoDbDeploymentRepository({ client: dynamoDbClient(), tableName: requiredEnv('DEPLOYMENTS_TABLE') });
}

/** Everything a handler may use; adapters a handler does not touch are never called. */
export function deploymentDependencies(): Promise<DeploymentDependencies> {
  cached ??= buildDependencies().catch((error: unknown) => {
    cached = undefined;
    throw error;
  });
  return cached;
}

async function buildDependencies(): Promise<DeploymentDependencies> {
  return {
    deployments: new DynamoDbDeploymentRepository({ client: dynamoDbClient(), tableName: requiredEnv('DEPLOYMENTS_TABLE') }),
    staging: new S3FileStaging({ client: s3Client(), bucket: stagingBucket() }),
    logArchive: new S3LogArchive({ client: s3Client(), bucket: stagingBucket() }),
    workflows: lazyWorkflows(),
    // Built on first use: handlers that never touch a sandbox need no access to its secret.
    sandboxes: new LazySandboxProvider(sandboxProvider),
  };
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

let s3: S3Client | undefined;

function s3Client(): S3Client {
  // Path-style addressing for S3-compatible servers that have no per-bucket host names.
  s3 ??= new S3Client({ forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' });
  return s3;
}

function stagingBucket(): string {
  return process.env.STAGING_BUCKET ?? '';
}

function lazyWorkflows(): SfnWorkflows {
  return new SfnWorkflows({ client: new SFNClient({}), stateMachineArn: process.env.STATE_MACHINE_ARN ?? '' });
}

/**
 * The AgentSphere API key comes from Secrets Manager (AGENTSPHERE_API_KEY_SECRET: a name or ARN),
 * read once per container and cached.
 */
async function sandboxProvider(): Promise<SandboxProvider> {
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

/** Forgets everything built so far (the local stack and tests change configuration). */
export function resetDependencies(): void {
  cached = undefined;
  dynamoDb = undefined;
  s3 = undefined;
}
