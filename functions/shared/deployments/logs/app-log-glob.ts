/**
 * The app's own log files, named by a glob relative to the app dir (`logs/**\/*.log`).
 * The glob ends up in a shell script, so it is held to a strict pattern: path segments of
 * letters, digits, `.`, `_`, `-`, with `*` and `?` inside a segment and `**` as a whole segment.
 * Nothing else (no quotes, `$`, spaces, brackets, braces, `..`, leading `/`) gets through.
 * It is then turned into a `find` search: a start directory from its literal leading segments,
 * a depth range, and an anchored POSIX extended regex.
 */
import { InvalidLogGlobError } from './log-errors.ts';

const MAX_GLOB_LENGTH = 200;
const SEGMENT = /^(?:\*\*|[A-Za-z0-9._?*-]+)$/;
/** How deep `**` may go: bounds the walk on a deep tree. */
const MAX_RECURSIVE_DEPTH = 16;
/** Directories `**` does not walk into unless the glob names them. */
const PRUNED_DIRECTORIES = ['node_modules', '.git'];

/** Where apps usually write their own log files, relative to the app directory. */
export const DEFAULT_APP_LOG_GLOB = 'logs/**/*.log';

export interface GlobSearch {
  /** Absolute directory where `find` starts (it may not exist). */
  startDir: string;
  minDepth: number;
  maxDepth: number;
  /** Matches the whole absolute path `find` prints. */
  pathRegex: string;
  /** Directory names not to descend into. */
  prune: string[];
}

/** The glob's segments, or InvalidLogGlobError saying what is wrong. */
export function validateAppLogGlob(glob: string): string[] {
  if (glob.length === 0 || glob.length > MAX_GLOB_LENGTH) {
    throw new InvalidLogGlobError(`app log glob must be 1 to ${MAX_GLOB_LENGTH} characters long`);
  }
  if (glob.startsWith('/')) throw new InvalidLogGlobError(`app log glob "${glob}" must be relative to the app directory`);
  const segments = glob.split('/');
  for (const segment of segments) {
    if (!SEGMENT.test(segment) || (segment.includes('**') && segment !== '**')) {
      throw new InvalidLogGlobError(
        `app log glob "${glob}" may only use letters, digits, ".", "_", "-", "*", "?" and "**" as a whole path segment`,
      );
    }
    if (segment === '.' || segment === '..') throw new InvalidLogGlobError(`app log glob "${glob}" may not contain "." or ".." segments`);
  }
  return segments;
}

export function appLogGlobSearch(appDir: string, glob: string): GlobSearch {
  const segments = validateAppLogGlob(glob);
  const literalCount = countLiteralPrefix(segments);
  const startDir = [appDir, ...segments.slice(0, literalCount)].join('/');
  const rest = segments.slice(literalCount);
  const recursive = rest.includes('**');
  return {
    startDir,
    minDepth: recursive ? 1 : rest.length,
    maxDepth: recursive ? MAX_RECURSIVE_DEPTH : rest.length,
    pathRegex: `${escapeRegex(startDir)}/${segmentsRegex(rest)}`,
    prune: PRUNED_DIRECTORIES.filter((name) => !rest.includes(name)),
  };
}

/** Literal leading directories; the last segment is always left to `find` to match. */
function countLiteralPrefix(segments: string[]): number {
  let count = 0;
  while (count < segments.length - 1 && !/[*?]/.test(segments[count]!)) count++;
  return count;
}

function segmentsRegex(segments: string[]): string {
  return segments
    .map((segment, index) => {
      const last = index === segments.length - 1;
      // `**/` is zero or more directories; a final `**` is anything below.
      if (segment === '**') return last ? '.*' : '(.*/)?';
      return segmentRegex(segment) + (last ? '' : '/');
    })
    .join('');
}

function segmentRegex(segment: string): string {
  return [...segment].map((char) => (char === '*' ? '[^/]*' : char === '?' ? '[^/]' : escapeRegex(char))).join('');
}

function escapeRegex(text: string): string {
  return text.replace(/[.[\]()*+?{}|^$\\]/g, '\\$&');
}
