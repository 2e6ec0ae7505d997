/**
 * A project directory as a manifest: each file by path, size, SHA-256 (streamed: a 100 MiB file
 * is never in memory) and mode (755 when executable, else 644, as git keeps them). The files the
 * build plan reads go inline, found by running the API's own plan over the disk.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type { BuildPlan } from '../functions/shared/deployments/build-plan/build-plan.ts';
import { PlanError } from '../functions/shared/deployments/build-plan/plan-error.ts';
import { DEFAULT_MANIFEST_LIMITS, type ManifestLimits } from '../functions/shared/deployments/manifest/manifest-limits.ts';
import { planManifest } from '../functions/shared/deployments/manifest/manifest-plan.ts';
import { PREVIEW_SANDBOX_FACTS, type PlanInput } from '../functions/shared/deployments/plan-deployment.ts';
import { CliError } from './errors.ts';
import { inCliTerms } from './option-terms.ts';
import { checkLimits, encode, type FoundFile, type ProjectListing } from './project-reader.ts';

export interface ManifestFileEntry {
  path: string;
  size: number;
  sha256: string;
  mode: number;
  content?: string;
  encoding?: 'utf8' | 'base64';
}

export interface ProjectManifest {
  entries: ManifestFileEntry[];
  /** sha256 -> a file on disk holding those bytes. */
  sources: Map<string, FoundFile>;
  totalBytes: number;
  plan: BuildPlan;
}

const HASH_CONCURRENCY = 4;

export async function readManifest(
  directory: string,
  listing: ProjectListing,
  options: PlanInput['options'],
  limits: ManifestLimits = DEFAULT_MANIFEST_LIMITS,
): Promise<ProjectManifest> {
  checkLimits(directory, listing.found, limits);
  const entries: ManifestFileEntry[] = new Array(listing.found.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: HASH_CONCURRENCY }, async () => {
      while (next < listing.found.length) {
        const index = next++;
        entries[index] = await describeFile(listing.found[index]!);
      }
    }),
  );
  const sources = new Map(entries.map((entry, index) => [entry.sha256, listing.found[index]!]));
  const byPath = new Map(listing.found.map((file) => [file.path, file]));
  let planned;
  try {
    planned = await planManifest(entries, options, async (entry) => readFile(byPath.get(entry.path)!.absolutePath), PREVIEW_SANDBOX_FACTS);
  } catch (error) {
    if (error instanceof PlanError) throw new CliError(`${directory}: ${inCliTerms(error.message)}`);
    throw error;
  }
  for (const path of planned.read) {
    const index = entries.findIndex((entry) => entry.path === path);
    Object.assign(entries[index]!, encode(await readFile(byPath.get(path)!.absolutePath)));
  }
  return { entries, sources, totalBytes: entries.reduce((sum, entry) => sum + entry.size, 0), plan: planned.plan };
}

async function describeFile(file: FoundFile): Promise<ManifestFileEntry> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(file.absolutePath)) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  const { mode } = await stat(file.absolutePath);
  return { path: file.path, size, sha256: hash.digest('hex'), mode: mode & 0o111 ? 0o755 : 0o644 };
}
