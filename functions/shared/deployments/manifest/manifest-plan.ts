/**
 * The build plan of a manifest. The plan reads a few small files (package.json, lockfiles,
 * Procfile, entry files); it runs on lazy file objects that record each content it asks for.
 * A content it lacks is fetched (the caller's held blob, or the local disk in the CLI) and the
 * plan runs again, until it asks for nothing new: the result is the plan it would make with every
 * content at hand. What neither the request nor the store can give is a 400 naming the entries.
 */
import type { BuildPlan, ProjectFile } from '../build-plan/build-plan.ts';
import { PlanError } from '../build-plan/plan-error.ts';
import { planProjectFiles, type PlanInput, type SandboxFacts } from '../plan-deployment.ts';
import { ManifestContentNeededError } from './manifest-errors.ts';
import { DEFAULT_MANIFEST_LIMITS } from './manifest-limits.ts';

export interface PlannedEntry {
  path: string;
  size: number;
  sha256: string;
}

/** Gives the content of an entry the plan asked for, or undefined when it cannot. */
export type ContentSource = (entry: PlannedEntry) => Promise<Uint8Array | undefined>;

export interface ManifestPlan {
  plan: BuildPlan;
  /** Paths whose content the plan read: what a client sends inline. */
  read: string[];
}

const MAX_ROUNDS = 10;

export async function planManifest(
  entries: readonly PlannedEntry[],
  options: PlanInput['options'],
  source: ContentSource,
  sandbox: SandboxFacts = {},
  known: ReadonlyMap<string, Uint8Array> = new Map(),
): Promise<ManifestPlan> {
  const contents = new Map(known);
  const unavailable = new Set<string>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const asked = new Set<string>();
    let plan: BuildPlan | undefined;
    let planError: unknown;
    try {
      plan = planProjectFiles(lazyFiles(entries, contents, asked), options, sandbox);
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      planError = error;
    }
    const missing = [...asked].filter((path) => !contents.has(path) && !unavailable.has(path));
    if (missing.length === 0) {
      if (unavailable.size > 0) throw contentNeeded(entries, unavailable);
      if (planError) throw planError;
      return { plan: plan!, read: [...asked].filter((path) => contents.has(path)).sort() };
    }
    const byPath = new Map(entries.map((entry) => [entry.path, entry]));
    await Promise.all(
      missing.map(async (path) => {
        const content = await source(byPath.get(path)!);
        if (content === undefined) unavailable.add(path);
        else contents.set(path, content);
      }),
    );
  }
  throw new PlanError('files', 'the build plan kept asking for more files; send the small config files inline');
}

/** Files as the plan sees them; reading `content` records the path. */
function lazyFiles(entries: readonly PlannedEntry[], contents: ReadonlyMap<string, Uint8Array>, asked: Set<string>): ProjectFile[] {
  return entries.map((entry) => {
    if (entry.size > DEFAULT_MANIFEST_LIMITS.maxInlineFileBytes) return { path: entry.path };
    return {
      path: entry.path,
      get content() {
        asked.add(entry.path);
        return contents.get(entry.path);
      },
    };
  });
}

function contentNeeded(entries: readonly PlannedEntry[], paths: ReadonlySet<string>): ManifestContentNeededError {
  const problems = entries.flatMap((entry, index) =>
    paths.has(entry.path)
      ? [{ field: `manifest[${index}].content`, rule: 'needed by the build plan', message: `manifest[${index}].content is needed: the build plan reads ${entry.path}; send its content inline` }]
      : [],
  );
  return new ManifestContentNeededError(problems);
}
