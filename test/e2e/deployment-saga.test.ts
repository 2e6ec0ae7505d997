/**
 * The deployment saga end to end over HTTP, with every local component real: the API, the
 * state machine from the synthesized template, DynamoDB, S3 and the local sandbox host.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownershipKey, primaryKey } from '../../functions/shared/adapters/deployments-table-keys.ts';
import { liveSandboxesOf, startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles } from '../support/project-files.ts';

const execFileAsync = promisify(execFile);
let fixture: StackFixture;

beforeAll(async () => {
  fixture = await startStackFixture();
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

describe('deploying a project', () => {
  it('answers on its url with curl on this machine, with no extra setup', async () => {
    // Prepare
    const accepted = await fixture.api.deploy({
      projectId: 'hello-curl',
      files: await projectFiles('hello-node'),
      options: { startCommand: 'node server.js', env: { GREETING_NAME: 'curl' } },
    });
    const running = await fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED']);

    // Act: a real curl, which resolves *.localhost to loopback by itself (no dispatcher, no DNS)
    const curl = await execFileAsync('curl', ['-sS', '--max-time', '5', running.url]);

    // Assert
    expect(running.url).toMatch(/^http:\/\/\d+-[a-z0-9-]+\.agentsphere\.localhost:\d+$/);
    expect(curl.stdout).toBe('hello from curl\n');
    await fixture.api.delete(accepted.body.deploymentId);
  });

  it('runs a small Node app, serves it, and stops serving it once deleted', async () => {
    // Prepare
    const port = 3000;
    const files = await projectFiles('hello-node');

    // Act
    const accepted = await fixture.api.deploy({
      projectId: 'hello',
      files,
      options: { port, startCommand: 'node server.js', env: { GREETING_NAME: 'e2e' } },
    });
    const running = await fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED']);
    const served = await fetch(running.url);
    const servedText = await served.text();
    const deleted = await fixture.api.delete(accepted.body.deploymentId);
    const afterDelete = await fetch(running.url);
    const status = await fixture.api.get(accepted.body.deploymentId);

    // Assert
    expect(accepted.status).toBe(202);
    expect(accepted.headers.get('location')).toBe(`/deployments/${accepted.body.deploymentId}`);
    expect(running).toMatchObject({ status: 'RUNNING', error: null, progress: { filesUploaded: files.length, filesTotal: files.length } });
    expect(servedText).toBe('hello from e2e\n');
    expect(deleted.body.status).toBe('TERMINATED');
    expect(afterDelete.status).toBe(502);
    expect(status.body).toMatchObject({ status: 'TERMINATED', url: null });
    expect(liveSandboxesOf(fixture.stack, accepted.body.deploymentId)).toEqual([]);
    expect(fixture.stack.sandboxHost!.registry.list()).toEqual([]);
  });

  it('installs a real dependency with npm inside the sandbox and reaches RUNNING', async () => {
    // Prepare
    const port = 3000;

    // Act: no startCommand: it is inferred from package.json scripts.start
    const accepted = await fixture.api.deploy({
      projectId: 'with-dependency',
      files: await projectFiles('with-dependency'),
      options: { port, installCommand: 'npm install --no-audit --no-fund', healthPath: '/' },
    });
    const running = await fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED'], 120_000);
    const served = await (await fetch(running.url)).text();

    // Assert
    expect(running.status, JSON.stringify(running.error)).toBe('RUNNING');
    expect(running.options.startCommand).toBe('npm start');
    expect(served).toBe('two days are 172800000 ms\n');
    await fixture.api.delete(accepted.body.deploymentId);
  }, 150_000);

  it('uploads a project in several batches sized by bytes', async () => {
    // Prepare: 40 files of 40 KB each, against 1 MB batches
    const port = 3000;
    const filler = 'x'.repeat(40_000);
    const files = [
      ...(await projectFiles('hello-node')),
      ...Array.from({ length: 40 }, (_, index) => ({ path: `assets/chunk-${index}.txt`, content: filler, encoding: 'utf8' })),
    ];

    // Act
    const accepted = await fixture.api.deploy({ projectId: 'batched', files, options: { port, startCommand: 'node server.js' } });
    const running = await fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED']);

    // Assert
    expect(running.status).toBe('RUNNING');
    expect(running.progress).toEqual({ filesUploaded: 41, filesTotal: 41, batchesTotal: 2 });
    await fixture.api.delete(accepted.body.deploymentId);
  });
});

describe("the sandbox's access token", () => {
  it('is in none of the records, API answers, events and logs of its deployment', { timeout: 60_000 }, async () => {
    // Prepare
    const accepted = await fixture.api.deploy({ projectId: 'token-stays-inside', files: await projectFiles('hello-node'), options: { startCommand: 'node server.js' } });
    const deploymentId = accepted.body.deploymentId;
    const running = await fixture.api.waitForStatus(deploymentId, ['RUNNING', 'FAILED']);
    const sandbox = fixture.stack.sandboxHost!.registry.list().find((candidate) => candidate.metadata.deploymentId === deploymentId)!;
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

    // Act: everything the service keeps or shows of the deployment
    const seen = [
      running,
      (await fixture.api.request('GET', '/sandboxes?projectId=token-stays-inside')).body,
      (await fixture.api.request('GET', `/deployments/${deploymentId}/events`)).body,
      (await fixture.api.request('GET', `/deployments/${deploymentId}/logs?lines=1000&npmDebug=true`)).body,
      (await documents.send(new GetCommand({ TableName: process.env.DEPLOYMENTS_TABLE, Key: primaryKey(deploymentId) }))).Item,
      (await documents.send(new GetCommand({ TableName: process.env.DEPLOYMENTS_TABLE, Key: ownershipKey(sandbox.sandboxId) }))).Item,
    ];
    documents.destroy();
    await fixture.api.delete(deploymentId);

    // Assert
    expect(running.status).toBe('RUNNING');
    expect(sandbox.accessToken).toMatch(/^[0-9a-f]{32}$/);
    expect(JSON.stringify(seen)).not.toContain(sandbox.accessToken);
  });
});
