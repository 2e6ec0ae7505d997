import { startLocalStack } from '../infra/local/local-stack.ts';
import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
function spawnSync(cmd: string, args: string[], opts: any): Promise<{status: number|null, stdout: string, stderr: string}> {
  return new Promise((resolve) => { const c = spawn(cmd, args, { env: opts.env }); let o = '', e = ''; c.stdout.on('data', (d) => o += d); c.stderr.on('data', (d) => e += d); c.on('close', (status) => resolve({ status, stdout: o, stderr: e })); });
}
const stack = await startLocalStack({ environment: { POWERTOOLS_LOG_LEVEL: 'WARN', POWERTOOLS_METRICS_DISABLED: 'true', UPLOAD_PART_BYTES: String(4 * 1024 * 1024) }, probeIntervalMs: 200 });
try {
  const dir = await mkdtemp(join(tmpdir(), 'smoke-'));
  await writeFile(join(dir, 'index.html'), '<h1>hi</h1>');
  await mkdir(join(dir, 'docs'));
  for (let i = 0; i < 50; i++) await writeFile(join(dir, 'docs', `p${i}.html`), randomBytes(5000).toString('hex'));
  await writeFile(join(dir, 'big.bin'), randomBytes(6 * 1024 * 1024));
  const token = await stack.issueToken('smoke');
  const env = { ...process.env, CODERUNNER_API_URL: stack.apiUrl, CODERUNNER_TOKEN: token, NO_COLOR: '1' };
  let t = Date.now();
  let r = await spawnSync(process.execPath, ['bin/coderunner.mjs', 'deploy', dir, '--manifest'], { env, encoding: 'utf8', timeout: 40000 });
  console.log(r.status, r.stdout, r.stderr, Date.now() - t);
  await writeFile(join(dir, 'docs', 'p3.html'), 'changed');
  t = Date.now();
  r = await spawnSync(process.execPath, ['bin/coderunner.mjs', 'deploy', dir, '--manifest', '--reuse'], { env, encoding: 'utf8' });
  console.log(r.status, r.stdout, r.stderr, Date.now() - t);
  console.log(JSON.stringify(stack.sandboxHost!.registry.list().map((s) => s.stats)).slice(0, 2000));
  console.log(stack.s3CreatedObjects().filter((o) => o.key.includes('uploads')));
} finally {
  await stack.stop();
}
