/**
 * Large projects, end to end with the real local components (the CLI as a subprocess, the API,
 * s3rver, the saga, the local sandbox host): a project past the inline limit goes by manifest,
 * every file reads back byte-identical through the app; a redeploy uploads and writes only what
 * changed and removes what is gone; completions that do not match the manifest are refused, start
 * nothing and leave nothing once their deadline passes.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { liveSandboxesOf, startStackFixture, type ApiClient, type StackFixture } from '../support/local-stack-fixture.ts';
import { expectNoLeaks } from '../support/no-leak-invariant.ts';
import { generateLargeProject, sha256, type GeneratedProject } from '../support/large-project.ts';

const BIN = fileURLToPath(new URL('../../bin/coderunner.mjs', import.meta.url));
const DEPLOYMENT_ID = /deployment ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/;
const CLI_USER = 'large-cli-user';
const UPLOAD_DEADLINE_SECONDS = 3;

let fixture: StackFixture;
let cliApi: ApiClient;
let token: string;
let workDir: string;
let project: GeneratedProject;
let s3: S3Client;
const deployments: { api: ApiClient; id: string }[] = [];

beforeAll(async () => {
  fixture = await startStackFixture({ environment: { UPLOAD_DEADLINE_SECONDS: String(UPLOAD_DEADLINE_SECONDS) } });
  token = await fixture.stack.issueToken(CLI_USER);
  cliApi = await fixture.apiAs(CLI_USER);
  workDir = await mkdtemp(join(tmpdir(), 'coderunner-large-'));
  project = await generateLargeProject(join(workDir, 'site'));
  s3 = new S3Client({ endpoint: fixture.stack.s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
}, 120_000);

afterAll(async () => {
  if (fixture) {
    for (const { api, id } of deployments) await api.delete(id);
    await expectNoLeaks(fixture.stack);
  }
  s3?.destroy();
  await fixture?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function runCli(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: workDir,
      env: { PATH: process.env.PATH ?? '', HOME: workDir, NO_COLOR: '1', CODERUNNER_API_URL: fixture.stack.apiUrl, CODERUNNER_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

function sandboxOf(deploymentId: string) {
  const sandbox = (fixture.stack.sandboxHost?.registry.list() ?? []).find((candidate) => candidate.metadata.deploymentId === deploymentId);
  if (!sandbox) throw new Error(`no live sandbox for deployment ${deploymentId}`);
  return sandbox;
}

async function appBaseUrl(deployment: { sandboxId: string; options: { port: number } }): Promise<string> {
  return (await fixture.stack.browserUrl(deployment.sandboxId, deployment.options.port)).replace(/\/$/, '');
}

/** sha256 of each path as the app serves it (undefined for a non-200). */
async function servedHashes(baseUrl: string, paths: readonly string[]): Promise<Map<string, string | undefined>> {
  const hashes = new Map<string, string | undefined>();
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < paths.length) {
        const path = paths[next++]!;
        const response = await fetch(`${baseUrl}/${path}`);
        hashes.set(path, response.status === 200 ? sha256(new Uint8Array(await response.arrayBuffer())) : (await response.arrayBuffer(), undefined));
      }
    }),
  );
  return hashes;
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: fixture.stack.s3.bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

/** Every file under the app directory with its inode and modification time: a rewritten file changes them. */
async function fileVersions(root: string): Promise<Map<string, string>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const versions = new Map<string, string>();
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const path = relative(root, join(entry.parentPath, entry.name));
    const info = await stat(join(root, path), { bigint: true });
    versions.set(path, `${info.ino}:${info.mtimeNs}`);
  }
  return versions;
}

function uploadsOf(deploymentId: string) {
  return fixture.stack.s3CreatedObjects().filter((object) => object.key.startsWith(`deployments/${deploymentId}/uploads/`));
}

describe('a 40 MiB project through the CLI', () => {
  let first: any;

  it('deploys by manifest on its own and serves every file byte-identical', async () => {
    // Prepare: the generated project (20 MiB binary, 4 images of 3 MiB, ~1,000 small pages)

    // Act
    const run = await runCli(['deploy', project.root, '--project', 'large-site']);

    // Assert
    expect(run.output).toContain('by manifest');
    expect(run.code, run.output).toBe(0);
    const deploymentId = DEPLOYMENT_ID.exec(run.output)![1]!;
    deployments.push({ api: cliApi, id: deploymentId });
    first = (await cliApi.get(deploymentId)).body;
    expect(project.totalBytes).toBeGreaterThan(38 * 1024 * 1024);
    const served = await servedHashes(await appBaseUrl(first), [...project.files.keys()]);
    const differing = [...project.files].filter(([path, hash]) => served.get(path) !== hash).map(([path]) => path);
    expect(differing).toEqual([]);
  }, 240_000);

  it('keeps the executable bit', async () => {
    // Prepare: the first deployment's sandbox

    // Act
    const { mode } = await stat(join(sandboxOf(first.deploymentId).rootDir, 'home', 'user', 'app', 'bin', 'tool.sh'));

    // Assert
    expect(mode & 0o777).toBe(0o755);
  });

  it('redeploys after one changed and one deleted file: one blob uploaded, one file written, the deleted file gone', async () => {
    // Prepare
    const changed = 'pages/section-03/page-3.html';
    const deleted = 'pages/section-04/page-4.html';
    const newContent = '<p>changed</p>\n';
    await writeFile(join(project.root, changed), newContent);
    await unlink(join(project.root, deleted));
    const sandbox = sandboxOf(first.deploymentId);
    const appDir = join(sandbox.rootDir, 'home', 'user', 'app');
    const before = await fileVersions(appDir);
    const writesBefore = sandbox.stats.filesWritten.length;

    // Act
    const run = await runCli(['deploy', project.root, '--project', 'large-site', '--reuse']);

    // Assert
    expect(run.code, run.output).toBe(0);
    const deploymentId = DEPLOYMENT_ID.exec(run.output)![1]!;
    deployments.push({ api: cliApi, id: deploymentId });
    expect(run.output).toMatch(/already uploaded, skipped/);
    const uploads = uploadsOf(deploymentId);
    expect(uploads.map((upload) => upload.size)).toEqual([Buffer.byteLength(newContent)]);
    // At the sandbox host: one archive came through the daemon, and on disk only the changed file is new.
    const archives = sandbox.stats.filesWritten.slice(writesBefore).filter((path) => path.startsWith('/home/user/.coderunner/incoming/'));
    expect(archives).toHaveLength(1);
    const after = await fileVersions(appDir);
    const rewritten = [...after].filter(([path, version]) => before.has(path) && before.get(path) !== version).map(([path]) => path);
    const added = [...after.keys()].filter((path) => !before.has(path));
    expect({ rewritten, added }).toEqual({ rewritten: [changed], added: [] });
    await expect(stat(join(appDir, deleted))).rejects.toMatchObject({ code: 'ENOENT' });
    const view = (await cliApi.get(deploymentId)).body;
    const served = await servedHashes(await appBaseUrl(view), [changed, deleted, 'assets/data.bin']);
    expect(Object.fromEntries(served)).toEqual({ [changed]: sha256(newContent), [deleted]: undefined, 'assets/data.bin': project.files.get('assets/data.bin') });
  }, 240_000);
});

interface ManifestFile {
  path: string;
  content: Buffer;
  inline?: boolean;
}

function manifestOf(files: readonly ManifestFile[]) {
  return files.map((file) => ({
    path: file.path,
    size: file.content.length,
    sha256: sha256(file.content),
    ...(file.inline ? { content: file.content.toString('utf8') } : {}),
  }));
}

const INDEX: ManifestFile = { path: 'index.html', content: Buffer.from('<h1>refusals</h1>'), inline: true };

async function postManifest(api: ApiClient, projectId: string, files: readonly ManifestFile[]) {
  const answer = await api.deploy({ projectId, manifest: manifestOf(files) });
  expect(answer.status, JSON.stringify(answer.body)).toBe(202);
  return answer.body;
}

async function putPart(part: { url: string }, body: Buffer): Promise<void> {
  const response = await fetch(part.url, { method: 'PUT', body });
  expect(response.status).toBe(200);
}

function partBody(accepted: any, partIndex: number, files: readonly ManifestFile[]): Buffer {
  const bySha = new Map(files.map((file) => [sha256(file.content), file.content]));
  return Buffer.concat(accepted.upload.parts[partIndex].pieces.map((piece: any) => bySha.get(piece.sha256)!.subarray(piece.offset, piece.offset + piece.length)));
}

describe('completions that do not match the manifest', () => {
  const refused: { api: ApiClient; id: string }[] = [];
  let owner: ApiClient;
  let other: ApiClient;

  beforeAll(async () => {
    owner = await fixture.apiAs('refusal-owner');
    other = await fixture.apiAs('blob-holder');
  });

  it('refuses a completion with a blob missing, naming it, and starts nothing', async () => {
    // Prepare
    const files = [INDEX, { path: 'data.bin', content: Buffer.alloc(100_000, 7) }];
    const accepted = await postManifest(owner, 'refuse-missing', files);
    refused.push({ api: owner, id: accepted.deploymentId });

    // Act
    const completion = await owner.request('POST', `/deployments/${accepted.deploymentId}/complete`);

    // Assert
    expect(completion.status).toBe(400);
    expect(completion.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'manifest[1]', rule: 'missing blob' })]));
    expect((await owner.get(accepted.deploymentId)).body.status).toBe('AWAITING_UPLOAD');
    expect(liveSandboxesOf(fixture.stack, accepted.deploymentId)).toEqual([]);
  });

  it('refuses a completion whose uploaded bytes hash differently, and drops those bytes', async () => {
    // Prepare
    const files = [INDEX, { path: 'data.bin', content: Buffer.alloc(100_000, 1) }];
    const accepted = await postManifest(owner, 'refuse-mismatch', files);
    refused.push({ api: owner, id: accepted.deploymentId });
    const honest = partBody(accepted, 0, files);
    const tampered = Buffer.from(honest);
    const last = tampered.length - 1;
    tampered.writeUInt8(tampered.readUInt8(last) ^ 0xff, last);
    await putPart(accepted.upload.parts[0], tampered);

    // Act
    const completion = await owner.request('POST', `/deployments/${accepted.deploymentId}/complete`);

    // Assert
    expect(completion.status).toBe(400);
    expect(completion.body.errors).toEqual([expect.objectContaining({ field: 'manifest[1].sha256', rule: 'hash mismatch' })]);
    expect(await keysUnder(`deployments/${accepted.deploymentId}/uploads/`)).toEqual([]);
    expect((await owner.get(accepted.deploymentId)).body.status).toBe('AWAITING_UPLOAD');
    expect(liveSandboxesOf(fixture.stack, accepted.deploymentId)).toEqual([]);
  });

  it("never counts another owner's blob as held: naming its hash needs an upload, and completing without one is refused", async () => {
    // Prepare: another owner uploads a blob and completes its deployment
    const secret = { path: 'secret.bin', content: Buffer.alloc(50_000, 42) };
    const theirs = await postManifest(other, 'holder', [INDEX, secret]);
    for (const [index, part] of theirs.upload.parts.entries()) await putPart(part, partBody(theirs, index, [INDEX, secret]));
    const completed = await other.request('POST', `/deployments/${theirs.deploymentId}/complete`);
    expect(completed.status).toBe(202);
    deployments.push({ api: other, id: theirs.deploymentId });
    await other.waitForStatus(theirs.deploymentId, ['RUNNING'], 60_000);

    // Act
    const accepted = await postManifest(owner, 'borrower', [INDEX, secret]);
    refused.push({ api: owner, id: accepted.deploymentId });
    const completion = await owner.request('POST', `/deployments/${accepted.deploymentId}/complete`);

    // Assert
    expect(accepted.upload.blobs.map((blob: any) => blob.sha256)).toContain(sha256(secret.content));
    expect(completion.status).toBe(400);
    expect(completion.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'manifest[1]', rule: 'missing blob' })]));
    expect(liveSandboxesOf(fixture.stack, accepted.deploymentId)).toEqual([]);
  }, 90_000);

  it('ends every refused deployment once its deadline passes, with nothing left behind', async () => {
    // Prepare: wait out the upload deadline
    await sleep(UPLOAD_DEADLINE_SECONDS * 1000 + 500);

    // Act
    await fixture.stack.sweep();

    // Assert
    for (const { api, id } of refused) {
      const view = (await api.get(id)).body;
      expect(view.status).toBe('FAILED');
      expect(view.error.step).toBe('upload');
      expect(await keysUnder(`deployments/${id}/`)).toEqual([]);
      expect((await keysUnder('blobs/')).filter((key) => key.includes(id))).toEqual([]);
      expect(liveSandboxesOf(fixture.stack, id)).toEqual([]);
    }
  });
});

describe('a manifest that breaks the rules', () => {
  it.each([
    ['a malformed hash', { path: 'a.txt', size: 1, sha256: 'XYZ' }, 'manifest[1].sha256'],
    ['a path with ..', { path: '../escape.txt', size: 1, sha256: 'a'.repeat(64) }, 'manifest[1].path'],
    ['a file past the size limit', { path: 'huge.bin', size: 101 * 1024 * 1024, sha256: 'a'.repeat(64) }, 'manifest[1].size'],
  ])('answers 400 naming the field for %s, and creates nothing', async (_case, entry, field) => {
    // Prepare
    const api = await fixture.apiAs('rule-breaker');
    const projectId = `rules-${field.replace(/\W/g, '')}`;

    // Act
    const answer = await api.deploy({ projectId, manifest: [...manifestOf([INDEX]), entry] });

    // Assert
    expect(answer.status).toBe(400);
    expect(answer.body.errors.map((error: any) => error.field)).toContain(field);
    expect((await api.request('GET', `/deployments?projectId=${projectId}`)).body.items).toEqual([]);
  });
});
