import { S3Client, PutObjectCommand, GetObjectCommand, CreateBucketCommand } from '@aws-sdk/client-s3';
import { startLocalS3 } from '/work/wt-large/infra/local/aws/local-s3.ts';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execSync } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
const dir = await mkdtemp(join(tmpdir(), 's3p-'));
const s3 = await startLocalS3({ directory: dir, buckets: ['bkt-test'] });
const client = new S3Client({ endpoint: s3.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
const body = randomBytes(10_000);
async function pool<T>(n: number, items: T[], f: (t: T) => Promise<void>) { let i = 0; await Promise.all(Array.from({ length: n }, async () => { while (i < items.length) { const x = items[i++]!; await f(x); } })); }
const keys = Array.from({ length: 1000 }, (_, i) => `k/${i}`);
let t = performance.now();
await pool(16, keys, async (k) => { await client.send(new PutObjectCommand({ Bucket: 'bkt-test', Key: k, Body: body })); });
console.log('1000 PUT c16', performance.now() - t);
t = performance.now();
await pool(16, keys, async (k) => { const r = await client.send(new GetObjectCommand({ Bucket: 'bkt-test', Key: k })); await r.Body!.transformToByteArray(); });
console.log('1000 GET c16', performance.now() - t);
const big = randomBytes(10_000_000);
t = performance.now();
await client.send(new PutObjectCommand({ Bucket: 'bkt-test', Key: 'big', Body: big }));
console.log('10MB PUT', performance.now() - t);
t = performance.now();
{ const r = await client.send(new GetObjectCommand({ Bucket: 'bkt-test', Key: 'big' })); await r.Body!.transformToByteArray(); }
console.log('10MB GET', performance.now() - t);
const src = await mkdtemp(join(tmpdir(), 'tarsrc-'));
for (let i = 0; i < 1000; i++) { mkdirSync(join(src, `d${i % 20}`), { recursive: true }); writeFileSync(join(src, `d${i % 20}`, `f${i}`), body); }
execSync(`tar -cf ${src}.tar -C ${src} .`);
const out = await mkdtemp(join(tmpdir(), 'tarout-'));
t = performance.now();
execSync(`tar -xf ${src}.tar -C ${out}`);
console.log('tar -x', performance.now() - t);
await s3.close();
