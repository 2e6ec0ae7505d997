/**
 * Whether the sandbox's Node is one the app (engines.node in package.json) and its locked
 * packages (engines.node in package-lock.json) say they run on. npm only warns (EBADENGINE) and
 * installs anyway; the app then fails at start or build with an error far from the cause.
 */
import semver from 'semver';
import type { PackageJson, ProjectFiles } from './project-files.ts';

/** Packages named in the note; the rest are counted. */
const NAMED_PACKAGES = 3;

export function nodeEngineNotes(files: ProjectFiles, manifest: PackageJson, nodeMajor: number): string[] {
  const notes: string[] = [];
  if (manifest.nodeEngine && !runsOn(manifest.nodeEngine, nodeMajor)) {
    notes.push(`package.json asks for Node ${manifest.nodeEngine} (engines.node), but the sandbox runs Node ${nodeMajor}: npm warns EBADENGINE and the app may fail to build or start`);
  }
  const locked = lockedPackagesNeedingOtherNode(files, nodeMajor);
  if (locked.length > 0) {
    const named = locked.slice(0, NAMED_PACKAGES).map(({ name, version, range }) => `${name}@${version} (${range})`);
    const more = locked.length > NAMED_PACKAGES ? ` and ${locked.length - NAMED_PACKAGES} more` : '';
    notes.push(
      `${locked.length === 1 ? 'a locked package asks' : `${locked.length} locked packages ask`} for another Node than the sandbox's ${nodeMajor} (engines.node): ${named.join(', ')}${more}: npm warns EBADENGINE and ${locked.length === 1 ? 'it' : 'they'} may fail`,
    );
  }
  return notes;
}

/** Whether some Node release of this major satisfies the range; an unreadable range is given the benefit of the doubt. */
function runsOn(range: string, nodeMajor: number): boolean {
  try {
    return semver.intersects(range, `${nodeMajor}.x`, { loose: true });
  } catch {
    return true;
  }
}

interface LockedPackage {
  name: string;
  version: string;
  range: string;
}

function lockedPackagesNeedingOtherNode(files: ProjectFiles, nodeMajor: number): LockedPackage[] {
  const text = files.text('package-lock.json') ?? files.text('npm-shrinkwrap.json');
  if (!text) return [];
  let lock: unknown;
  try {
    lock = JSON.parse(text);
  } catch {
    return [];
  }
  const packages = (lock as { packages?: Record<string, { version?: unknown; engines?: unknown; dev?: unknown }> }).packages;
  if (!packages || typeof packages !== 'object') return [];
  const found: LockedPackage[] = [];
  for (const [path, entry] of Object.entries(packages)) {
    // "" is the app itself (package.json speaks for it); engines may be an old-style array.
    if (!path || !entry || typeof entry !== 'object') continue;
    const engines = entry.engines as { node?: unknown } | undefined;
    const range = engines && !Array.isArray(engines) && typeof engines.node === 'string' ? engines.node : undefined;
    if (!range || runsOn(range, nodeMajor)) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    found.push({ name, version: typeof entry.version === 'string' ? entry.version : '?', range });
  }
  return found;
}
