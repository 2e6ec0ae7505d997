/**
 * What every sandbox mounts read-only besides the system's /usr: the agent (its source and a
 * Node binary to run it) and a synthetic /etc. Built once per machine and content (a directory
 * named by a hash), never changed afterwards.
 * The agent's Node binary is a root-owned copy with mode 0711: a process that execs a binary it
 * cannot read is not dumpable, so the tenant (same uid) cannot read or write the agent's memory
 * through /proc/<pid>/mem, nor its environment or file descriptors.
 * The agent's TypeScript is stripped to JavaScript here, once: loading Node's type stripper in
 * every sandbox would add about 100 ms to each create.
 */
import { createHash, randomBytes } from 'node:crypto';
import { stripTypeScriptTypes } from 'node:module';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const AGENT_SOURCE_DIR = fileURLToPath(new URL('./agent/', import.meta.url));
const ROOT_BUNDLE_DIR = '/var/tmp/coderunner-sandbox';
/** Changes whenever the way a bundle is built changes. */
const BUNDLE_FORMAT = 'stripped-js-1';
/** Bundles no host has used for this long are deleted (a Node binary copy each). */
const UNUSED_BUNDLE_MS = 24 * 3600_000;

export interface AgentBundle {
  /** The Node binary that runs the agent. */
  node: string;
  /** The agent's source directory. */
  agentDir: string;
  /** Synthetic /etc files, by name. */
  etcDir: string;
  /** Whether the agent's binary is unreadable to the sandbox (root only). */
  agentProtected: boolean;
}

/** The sandbox's user is `user` (uid 1000 inside), whatever host uid it maps to. */
const SYNTHETIC_ETC: Record<string, string> = {
  passwd: 'root:x:0:0:root:/root:/usr/sbin/nologin\nuser:x:1000:1000:user:/home/user:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n',
  group: 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n',
  hosts: '127.0.0.1\tlocalhost sandbox\n::1\tlocalhost ip6-localhost ip6-loopback\n',
  hostname: 'sandbox\n',
  'resolv.conf': '# No DNS inside the sandbox: outbound connections go through the proxy at 127.0.0.1:3128 (https_proxy).\n',
  'nsswitch.conf': 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\nnetworks: files\nprotocols: files\nservices: files\n',
  // Debian's /etc/profile resets PATH for non-root users; a sandbox keeps the PATH it was given.
  profile: '# /etc/profile of a CodeRunner sandbox: keeps the PATH the command was started with.\numask 022\nif [ "${PS1-}" ] && [ -f /etc/bash.bashrc ]; then . /etc/bash.bashrc; fi\n',
};

/** Type annotations out, `./x.ts` imports to `./x.js`. */
function toJavaScript(source: string): string {
  const emitWarning = process.emitWarning;
  // stripTypeScriptTypes warns that it is experimental, once, on the host's stderr.
  process.emitWarning = (() => {}) as typeof process.emitWarning;
  try {
    return stripTypeScriptTypes(source).replace(/(from\s+['"]\.\/[^'"]+)\.ts(['"])/g, '$1.js$2');
  } finally {
    process.emitWarning = emitWarning;
  }
}

export async function prepareAgentBundle(): Promise<AgentBundle> {
  const asRoot = process.getuid?.() === 0;
  const agentFiles = (await readdir(AGENT_SOURCE_DIR)).filter((name) => name.endsWith('.ts') || name === 'package.json').sort();
  const nodeInfo = await stat(process.execPath);
  const hash = createHash('sha256');
  hash.update(`${BUNDLE_FORMAT}\0${process.execPath}\0${nodeInfo.size}\0${nodeInfo.mtimeMs}\0${asRoot}\0`);
  for (const name of agentFiles) hash.update(`${name}\0`).update(await readFile(join(AGENT_SOURCE_DIR, name)));
  hash.update(JSON.stringify(SYNTHETIC_ETC));
  const base = asRoot ? ROOT_BUNDLE_DIR : join(tmpdir(), `coderunner-sandbox-${process.getuid?.() ?? 'user'}`);
  const dir = join(base, hash.digest('hex').slice(0, 16));
  const bundle = { node: join(dir, 'node'), agentDir: join(dir, 'agent'), etcDir: join(dir, 'etc'), agentProtected: asRoot };
  if (existsSync(join(dir, 'complete'))) {
    await markUsed(dir);
    await pruneUnused(base, dir);
    return bundle;
  }

  await mkdir(base, { recursive: true, mode: 0o711 });
  await chmod(base, 0o711);
  const building = `${dir}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await mkdir(join(building, 'agent'), { recursive: true, mode: 0o755 });
  await mkdir(join(building, 'etc'), { mode: 0o755 });
  await chmod(building, 0o755);
  await copyFile(process.execPath, join(building, 'node'));
  await chmod(join(building, 'node'), asRoot ? 0o711 : 0o755);
  for (const name of agentFiles) {
    const source = await readFile(join(AGENT_SOURCE_DIR, name), 'utf8');
    const [target, content] = name.endsWith('.ts') ? [name.replace(/\.ts$/, '.js'), toJavaScript(source)] : [name, source];
    await writeFile(join(building, 'agent', target), content, { mode: 0o644 });
  }
  for (const [name, content] of Object.entries(SYNTHETIC_ETC)) await writeFile(join(building, 'etc', name), content, { mode: 0o644 });
  await writeFile(join(building, 'complete'), '');
  try {
    await rename(building, dir);
  } catch {
    // Another host built the same bundle at the same time: theirs is as good.
    await rm(building, { recursive: true, force: true });
  }
  await pruneUnused(base, dir);
  return bundle;
}

async function markUsed(dir: string): Promise<void> {
  const now = new Date();
  await utimes(join(dir, 'complete'), now, now).catch(() => {});
}

async function pruneUnused(base: string, current: string): Promise<void> {
  for (const name of await readdir(base).catch(() => [] as string[])) {
    const dir = join(base, name);
    if (dir === current) continue;
    // A bundle being built (no `complete` yet) counts as used when its directory was made.
    const used = await stat(join(dir, 'complete')).catch(() => stat(dir)).then((info) => info.mtimeMs, () => Date.now());
    if (Date.now() - used > UNUSED_BUNDLE_MS) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}
