// measure: s3 range read of 10MB chunks vs write stream to the local host
import { startSandboxHost } from '../infra/local/sandbox-host/sandbox-host.ts';
import { routeAgentSphereToLocalHost } from '../infra/local/agentsphere-routing.ts';
import { AgentSphereProvider } from '../functions/shared/sandbox/agentsphere/index.ts';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
const host = await startSandboxHost({ stateDir: await mkdtemp(join(tmpdir(), 'h-')), domain: 'agentsphere.localhost' });
routeAgentSphereToLocalHost({ hostUrl: host.url, domain: host.domain });
const provider = new AgentSphereProvider({ apiKey: host.apiKey, domain: host.sdkDomain });
const sb = await provider.create({ metadata: { userId: 'u', projectId: 'p', deploymentId: 'd' }, lifetimeSeconds: 60 });
const files = Array.from({ length: 1000 }, (_, i) => ({ path: `/home/user/app/s${i % 25}/f${i}.html`, content: randomBytes(10000) }));
for (let r = 0; r < 3; r++) {
  let t = performance.now();
  await sb.writeFileStreams(files.map((f) => ({ path: f.path, size: f.content.length, async *open() { yield f.content; } })));
  console.log('stream write', performance.now() - t);
  t = performance.now();
  await sb.writeFiles(files);
  console.log('sdk write', performance.now() - t);
}
await sb.kill(); await host.close();
