/**
 * Fault injection at every step of the saga: each ends FAILED with the step and the cause, the
 * sandbox killed, and nothing left running.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { processesMatching } from '../support/local-sandbox-host.ts';
import { sandboxesLeftBy, startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { projectFiles } from '../support/project-files.ts';

let fixture: StackFixture;

beforeAll(async () => {
  // Small batches, so a project has several and one of them can fail.
  // A start grace long enough that an app crashing on boot is seen by the start step even on a
  // loaded machine (a Node start inside a sandbox takes 100-400 ms); see the app that exits later.
  fixture = await startStackFixture({ environment: { BATCH_MAX_FILES: '5', START_GRACE_MS: '2000' } });
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
    options: { port: 3000, startCommand: 'node server.js', ...options },
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
    expect(await sandboxesLeftBy(fixture.stack, failed.deploymentId)).toEqual([]);
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
    expect(await sandboxesLeftBy(fixture.stack, failed.deploymentId)).toEqual([]);
  });

  it('records the install output when the install command fails', async () => {
    const failed = await deployAndWaitForFailure({ installCommand: "echo 'npm ERR! missing-thing' >&2; exit 3" });

    expect(failed.error).toMatchObject({ step: 'start', name: 'InstallFailedError' });
    expect(failed.error.message).toContain('exited with code 3');
    expect(failed.error.message).toContain('npm ERR! missing-thing');
    expect(await sandboxesLeftBy(fixture.stack, failed.deploymentId)).toEqual([]);
  });

  it('records the app output when the start command exits at once', async () => {
    // Prepare
    const marker = `marker-${randomUUID()}`;

    // Act
    const failed = await deployAndWaitForFailure({
      startCommand: markerCommand(marker, "console.error('crash on boot'); process.exit(1)"),
    });

    // Assert
    expect(failed.error).toMatchObject({ step: 'start', name: 'StartFailedError' });
    expect(failed.error.message).toContain('crash on boot');
    expect(await sandboxesLeftBy(fixture.stack, failed.deploymentId)).toEqual([]);
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
    expect(await sandboxesLeftBy(fixture.stack, failed.deploymentId)).toEqual([]);
    expect(await processesMatching(marker)).toEqual([]);
  });

  it('fails the health step at once when the app exits after starting', async () => {
    const failed = await deployAndWaitForFailure({
      // Exits well after the start grace (2 s), well before the health deadline.
      startCommand: "node -e \"console.error('out of memory, bye'); setTimeout(() => process.exit(2), 3500)\"",
    });

    expect(failed.error).toMatchObject({ step: 'health', name: 'AppExitedError' });
    expect(failed.error.message).toContain('out of memory, bye');
    expect(await sandboxesLeftBy(fixture.stack, failed.deploymentId)).toEqual([]);
  });
});
