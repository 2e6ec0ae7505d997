/**
 * Fault injection at every step of the saga: each ends FAILED with the step and the cause, the
 * sandbox killed, and nothing left running.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processesMatching } from '../support/local-sandbox-host.ts';
import { liveSandboxesOf, startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles } from '../support/project-files.ts';

let fixture: StackFixture;

beforeAll(async () => {
  // Small batches, so a project has several and one of them can fail.
  fixture = await startStackFixture({ environment: { BATCH_MAX_FILES: '5' } });
});

afterEach(() => {
  fixture.stack.sandboxHost!.faults.clear();
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

async function deployAndWaitForFailure(options: Record<string, unknown>, files?: unknown[]) {
  const accepted = await fixture.api.deploy({
    projectId: 'faulty',
    files: files ?? (await projectFiles('hello-node')),
    options: { startCommand: 'node server.js', ...options },
  });
  expect(accepted.status).toBe(202);
  return fixture.api.waitForStatus(accepted.body.deploymentId, ['FAILED', 'RUNNING']);
}

function markerCommand(marker: string, script: string): string {
  return `node -e "${script}" ${marker}`;
}

describe('when a step of the saga fails', () => {
  it('records a failed create and leaves no sandbox', async () => {
    // Prepare: the provider fails every create
    fixture.stack.sandboxHost!.faults.add({ target: 'control-plane', method: 'POST', pathIncludes: '/sandboxes', status: 500, times: 50 });

    // Act
    const failed = await deployAndWaitForFailure({});

    // Assert
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ step: 'create', name: 'SandboxUnavailableError' });
    expect(failed.error.message).toContain('500');
    expect(failed.sandboxId).toBeNull();
    expect(liveSandboxesOf(fixture.stack, failed.deploymentId)).toEqual([]);
  });

  it('kills the sandbox when an upload batch fails', async () => {
    // Prepare: 13 files in batches of 5; the sandbox rejects one batch
    const files = [
      ...(await projectFiles('hello-node')),
      ...Array.from({ length: 12 }, (_, index) => ({ path: `data/${index}.txt`, content: `${index}`, encoding: 'utf8' })),
    ];
    fixture.stack.sandboxHost!.faults.add({ target: 'daemon', method: 'POST', pathIncludes: '/files', status: 400, times: 1 });

    // Act
    const failed = await deployAndWaitForFailure({}, files);

    // Assert
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toMatchObject({ step: 'upload', name: 'SandboxInvalidRequestError' });
    expect(failed.progress.batchesTotal).toBe(3);
    expect(failed.sandboxId).not.toBeNull();
    expect(liveSandboxesOf(fixture.stack, failed.deploymentId)).toEqual([]);
  });

  it('records the install output when the install command fails', async () => {
    const failed = await deployAndWaitForFailure({ installCommand: "echo 'npm ERR! missing-thing' >&2; exit 3" });

    expect(failed.error).toMatchObject({ step: 'start', name: 'InstallFailedError' });
    expect(failed.error.message).toContain('exited with code 3');
    expect(failed.error.message).toContain('npm ERR! missing-thing');
    expect(liveSandboxesOf(fixture.stack, failed.deploymentId)).toEqual([]);
  });

  it('records the app output when the start command exits at once', async () => {
    // Prepare
    const marker = `marker-${randomUUID()}`;

    // Act
    const failed = await deployAndWaitForFailure({
      startCommand: markerCommand(marker, "console.error('crash on boot'); process.exit(1)"),
    });

    // Assert
    expect(failed.error).toMatchObject({ step: 'health', name: 'AppExitedError' });
    expect(failed.error.message).toContain('crash on boot');
    expect(liveSandboxesOf(fixture.stack, failed.deploymentId)).toEqual([]);
    expect(await processesMatching(marker)).toEqual([]);
  });

  it('gives up on an app that never becomes healthy and kills it', async () => {
    // Prepare: the app answers, but only with 503
    const marker = `marker-${randomUUID()}`;

    // Act
    const failed = await deployAndWaitForFailure({
      startCommand: markerCommand(marker, "require('http').createServer((q,s)=>{s.statusCode=503;s.end('not yet')}).listen(process.env.PORT)"),
    });

    // Assert
    expect(failed.error).toMatchObject({ step: 'health', name: 'HealthCheckTimeoutError' });
    expect(failed.error.message).toContain('answered 503');
    expect(liveSandboxesOf(fixture.stack, failed.deploymentId)).toEqual([]);
    expect(await processesMatching(marker)).toEqual([]);
  });

  it('keeps the logs of a failed deployment readable after its sandbox is gone', async () => {
    // Prepare
    const failed = await deployAndWaitForFailure({
      startCommand: "node -e \"console.log('booting v1'); console.error('fatal: config missing'); process.exit(4)\"",
    });

    // Act
    const logs = await fixture.api.request('GET', `/deployments/${failed.deploymentId}/logs`);

    // Assert
    expect(liveSandboxesOf(fixture.stack, failed.deploymentId)).toEqual([]);
    expect(logs.status).toBe(200);
    expect(logs.body.saved).toMatchObject({ endedAs: 'FAILED' });
    expect(logs.body.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'app', line: 'booting v1' }),
        expect.objectContaining({ source: 'app-error', line: 'fatal: config missing' }),
      ]),
    );
  });

  it('fails the health step at once when the app exits after starting', async () => {
    const failed = await deployAndWaitForFailure({
      startCommand: "node -e \"console.error('out of memory, bye'); setTimeout(() => process.exit(2), 2500)\"",
    });

    expect(failed.error).toMatchObject({ step: 'health', name: 'AppExitedError' });
    expect(failed.error.message).toContain('out of memory, bye');
    expect(liveSandboxesOf(fixture.stack, failed.deploymentId)).toEqual([]);
  });
});
