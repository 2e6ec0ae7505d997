/**
 * A rotated AgentSphere API key is picked up without a restart: when the provider refuses the
 * key it has, the cached provider and secret are dropped and the call is made once more with the
 * key read anew from Secrets Manager.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../infra/local/aws/local-secrets-manager.ts';
import { startLocalHostFixture, type LocalHostFixture } from '../support/local-sandbox-host.ts';

const SECRET = 'coderunner/rotation-test-key';
let host: LocalHostFixture;
let secrets: LocalSecretsManager;
const values: Record<string, string> = { [SECRET]: 'as_the_key_before_rotation' };

beforeAll(async () => {
  host = await startLocalHostFixture();
  secrets = await startLocalSecretsManager(values);
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
    AGENTSPHERE_API_KEY_SECRET: SECRET,
    AGENTSPHERE_DOMAIN: host.host.domain,
  });
});

afterAll(async () => {
  await secrets?.close();
  await host?.stop();
});

describe('API key rotation', () => {
  it('refuses with the old key, then works on the first call after the secret holds the new one', async () => {
    // Prepare: the container read the key before the rotation
    const { sandboxProvider } = await import('../../functions/shared/runtime/sandbox-provider.ts');
    const provider = sandboxProvider();
    await expect(provider.list({ userId: 'rotation' })).rejects.toMatchObject({ name: 'SandboxUnauthorizedError' });

    // Act: the key is rotated in Secrets Manager (the cached one is now wrong)
    values[SECRET] = host.host.apiKey;
    const listed = await provider.list({ userId: 'rotation' });

    // Assert
    expect(listed).toEqual([]);
  });
});
