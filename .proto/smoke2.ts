import { startLocalStack } from '../infra/local/local-stack.ts';
import { createHash } from 'node:crypto';
const stack = await startLocalStack({ environment: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true' }, probeIntervalMs: 200 });
try {
  const token = await stack.issueToken('smoke');
  const content = '<h1>hi</h1>';
  const sha = createHash('sha256').update(content).digest('hex');
  const body = { projectId: 'x', manifest: [{ path: 'index.html', size: content.length, sha256: sha, content }] };
  const t = Date.now();
  const r = await fetch(`${stack.apiUrl}/deployments`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(20000) });
  const answer = await r.json() as any;
  console.log(r.status, Date.now() - t);
  const put = await fetch(answer.upload.parts[0].url, { method: 'PUT', body: content });
  console.log('put', put.status);
  const c = await fetch(`${stack.apiUrl}/deployments/${answer.deploymentId}/complete`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(20000) });
  console.log('complete', c.status, (await c.text()).slice(0, 500), Date.now() - t);
} catch (e) { console.log('ERR', e); } finally {
  await stack.stop();
}
