/**
 * The local stand-ins answer malformed input with a 4xx and keep serving; the operator endpoints
 * refuse requests without the stack's operator key.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';

let fixture: StackFixture;

beforeAll(async () => {
  fixture = await startStackFixture();
});

afterAll(async () => {
  await fixture?.stop();
});

function awsJson(endpoint: string, target: string, body: string, version = '1.1') {
  return fetch(endpoint, { method: 'POST', headers: { 'x-amz-target': target, 'content-type': `application/x-amz-json-${version}` }, body });
}

/** `key: null` sends none. */
function operator(path: string, init: RequestInit = {}, key: string | null = fixture.stack.operatorKey) {
  return fetch(`${fixture.stack.operatorUrl}${path}`, { ...init, headers: key ? { authorization: `Bearer ${key}` } : {} });
}

function hostOperator(path: string, init: RequestInit = {}, key: string | null = fixture.stack.sandboxHost!.operatorKey) {
  return fetch(`${fixture.stack.sandboxHost!.url}${path}`, { ...init, headers: key ? { authorization: `Bearer ${key}` } : {} });
}

describe('the local Secrets Manager', () => {
  it('answers a body that is not JSON with 400 and keeps serving secrets', async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER!;

    const broken = await awsJson(endpoint, 'secretsmanager.GetSecretValue', '{not json');
    const valid = await awsJson(endpoint, 'secretsmanager.GetSecretValue', JSON.stringify({ SecretId: process.env.AGENTSPHERE_API_KEY_SECRET }));

    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { __type: string }).__type).toBe('SerializationException');
    expect(valid.status).toBe(200);
  });

  it('answers a JSON body that is not an object with 400', async () => {
    const answer = await awsJson(process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER!, 'secretsmanager.GetSecretValue', 'null');

    expect(answer.status).toBe(400);
  });
});

describe('the local Step Functions endpoint', () => {
  it('answers a body that is not JSON with 400 and keeps serving', async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL_SFN!;

    const broken = await awsJson(endpoint, 'AWSStepFunctions.StartExecution', '{not json', '1.0');
    const valid = await awsJson(endpoint, 'AWSStepFunctions.DescribeStateMachine', JSON.stringify({ stateMachineArn: process.env.STATE_MACHINE_ARN }), '1.0');

    expect(broken.status).toBe(400);
    expect(valid.status).toBe(200);
  });
});

describe('the operator endpoint', () => {
  it('refuses a request without the operator key', async () => {
    const withoutKey = await operator('/sweep', { method: 'POST' }, null);
    const wrongKey = await operator('/sweep', { method: 'POST' }, 'op_wrong');

    expect(withoutKey.status).toBe(401);
    expect(wrongKey.status).toBe(401);
  });

  it('answers a malformed browser-url query with 400 and still sweeps', async () => {
    const badId = await operator('/browser-url?sandboxId=../../etc&port=3000');
    const badPort = await operator('/browser-url?sandboxId=abc&port=three');
    const sweep = await operator('/sweep', { method: 'POST' });

    expect(badId.status).toBe(400);
    expect(badPort.status).toBe(400);
    expect(sweep.status).toBe(200);
  });
});

describe("the sandbox host's operator API", () => {
  it('refuses /_host requests without the operator key', async () => {
    const answer = await hostOperator('/_host/sandboxes', {}, null);

    expect(answer.status).toBe(401);
  });

  it('answers a fault rule that is not JSON with 400 and keeps serving', async () => {
    const broken = await hostOperator('/_host/faults', { method: 'POST', body: '{not json' });
    const wrongType = await hostOperator('/_host/faults', { method: 'POST', body: JSON.stringify({ target: 'daemon', status: 'five hundred' }) });
    const health = await hostOperator('/_host/health');

    expect(broken.status).toBe(400);
    expect(wrongType.status).toBe(400);
    expect(health.status).toBe(200);
  });
});

describe("the local S3's gate for sandboxes", () => {
  /** A request to the gate at its loopback address, with the Host header sandboxes send. */
  function toGate(target: string): Promise<number> {
    const named = new URL(fixture.stack.s3.sandboxEndpoint);
    return new Promise((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port: Number(named.port), path: target, headers: { host: named.host } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      request.end();
    });
  }

  function rawToGate(bytes: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(fixture.stack.s3.sandboxEndpoint).port), '127.0.0.1', () => socket.end(bytes));
      let answer = '';
      socket.on('data', (chunk) => (answer += chunk.toString()));
      socket.on('close', () => resolve(answer));
      socket.on('error', reject);
    });
  }

  it('answers malformed requests and queries with a 4xx and keeps serving presigned URLs', async () => {
    const client = new S3Client({ endpoint: fixture.stack.s3.sandboxEndpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    const signed = new URL(await getSignedUrl(client, new GetObjectCommand({ Bucket: fixture.stack.s3.bucket, Key: 'dependency-cache/nobody/none.tar.zst' }), { expiresIn: 60 }));
    client.destroy();

    const garbage = await rawToGate('\x16\x03\x01 not http at all\r\n\r\n');
    const brokenEscape = await toGate(`/${fixture.stack.s3.bucket}/dependency-cache/x?X-Amz-Algorithm=%E0%A4%A`);
    const traversal = await toGate(`/${fixture.stack.s3.bucket}/dependency-cache/../deployments/x`);
    const valid = await toGate(`${signed.pathname}${signed.search}`);

    expect(garbage).toMatch(/^HTTP\/1.1 400/);
    expect(brokenEscape).toBe(403);
    expect(traversal).toBe(403);
    // Signed and let through: s3rver answers that the key does not exist.
    expect(valid).toBe(404);
  });
});
