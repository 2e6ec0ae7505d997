/**
 * A deployed app reaches none of the service's own endpoints: the API, the operator endpoint, the
 * sandbox host, DynamoDB, S3, Secrets Manager, EventBridge and Step Functions, neither directly
 * nor through the sandbox's egress proxy. The app is a real deployment through the API; it probes
 * at start and prints what it reached, and the test reads that from the deployment's logs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStackFixture, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';

let fixture: StackFixture;

beforeAll(async () => {
  fixture = await startStackFixture();
});

afterAll(async () => {
  if (fixture) await expectNoLeaks(fixture.stack);
  await fixture?.stop();
});

/** Connects to each target directly, then asks the egress proxy (https_proxy) to CONNECT to it. */
const PROBE_APP = `
const http = require('http');
const net = require('net');
const targets = JSON.parse(process.env.PROBE_TARGETS);
const proxy = new URL(process.env.https_proxy || process.env.HTTPS_PROXY || 'http://127.0.0.1:3128');

function direct(t) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: t.host, port: t.port });
    const done = (reached) => { socket.destroy(); resolve(reached); };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function throughProxy(t) {
  return new Promise((resolve) => {
    const request = http.request({ host: proxy.hostname, port: proxy.port, method: 'CONNECT', path: t.host + ':' + t.port, timeout: 3000 });
    request.once('connect', (response, socket) => { socket.destroy(); resolve(response.statusCode === 200); });
    request.once('timeout', () => { request.destroy(); resolve(false); });
    request.once('error', () => resolve(false));
    request.end();
  });
}

(async () => {
  const reached = [];
  for (const t of targets) {
    if (await direct(t)) reached.push(t.name + ' directly');
    if (await throughProxy(t)) reached.push(t.name + ' through the proxy');
  }
  console.log('PROBED ' + targets.length + ' REACHED ' + JSON.stringify(reached));
  http.createServer((q, s) => s.end('ok')).listen(process.env.PORT);
})();
`;

function endpoint(name: string, url: string | undefined): { name: string; host: string; port: number } {
  if (!url) throw new Error(`the local stack has no ${name} endpoint`);
  const parsed = new URL(url);
  return { name, host: parsed.hostname, port: Number(parsed.port) };
}

describe("the service's own endpoints, seen from a deployed app", () => {
  it('are reached neither directly nor through the egress proxy', { timeout: 120_000 }, async () => {
    // Prepare
    const { stack } = fixture;
    const targets = [
      endpoint('the API', stack.apiUrl),
      endpoint('the operator endpoint', stack.operatorUrl),
      endpoint('the sandbox host', stack.sandboxHost!.url),
      endpoint('DynamoDB', process.env.AWS_ENDPOINT_URL_DYNAMODB),
      endpoint('S3', process.env.AWS_ENDPOINT_URL_S3),
      endpoint('Secrets Manager', process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER),
      endpoint('EventBridge', process.env.AWS_ENDPOINT_URL_EVENTBRIDGE),
      endpoint('Step Functions', process.env.AWS_ENDPOINT_URL_SFN),
    ];

    // Act
    const accepted = await fixture.api.deploy({
      projectId: 'probe-the-stack',
      files: [{ path: 'probe.js', content: PROBE_APP }],
      options: { startCommand: 'node probe.js', healthPath: '/', env: { PROBE_TARGETS: JSON.stringify(targets) } },
    });
    const view = await fixture.api.waitForStatus(accepted.body.deploymentId, ['RUNNING', 'FAILED'], 60_000);
    const logs = await fixture.api.request('GET', `/deployments/${accepted.body.deploymentId}/logs?lines=200`);
    await fixture.api.delete(accepted.body.deploymentId);

    // Assert
    expect(view.status, JSON.stringify(view.error)).toBe('RUNNING');
    const report = (logs.body.lines as { line: string }[]).map((entry) => entry.line).find((line) => line.startsWith("PROBED "));
    expect(report).toBe(`PROBED ${targets.length} REACHED []`);
  });
});
