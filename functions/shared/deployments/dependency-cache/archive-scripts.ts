/**
 * The commands that move a dependency archive, run by the sandbox itself with a presigned URL
 * (curl, or wget where there is no curl; both honour the sandbox's proxy settings). The URL
 * and key travel in the command's environment, never in its text.
 * - restore: ONE pipeline, download | decompress | untar into the app directory, then a check
 *   that node_modules carries the expected key; anything wrong leaves no node_modules behind and
 *   exits 3 with a line saying so (the install then runs as without a cache);
 * - save (in the background, at the lowest CPU priority): marks node_modules with its key, packs
 *   it into a file (S3 needs the length of a PUT), uploads it, removes the file. It never fails
 *   anything: every outcome is a line in the install log. It records its process group, so that
 *   a redeploy stops it before changing node_modules (an archive of a tree being deleted could
 *   look whole).
 */
import { APP_DIR } from '../app-layout.ts';
import { ARCHIVE_CODECS, type DependencyArchiveFormat } from './archive-format.ts';
import { DEPENDENCIES_MARKER, SAVE_PID_FILE, SAVE_SIGNATURE } from './dependency-probe.ts';

/** The environment the scripts read. */
export interface ArchiveScriptEnv extends Record<string, string> {
  CR_CACHE_URL: string;
  CR_CACHE_KEY: string;
}

/** Outside the app directory, on the sandbox's own disk: where the archive is packed before its PUT. */
const STATE_DIR = '/home/user/.coderunner';
/** The restore's exit status when the archive could not be used. */
export const RESTORE_FAILED_EXIT = 3;
/** What the save packs: node_modules, without the build tools' caches inside it. */
const EXCLUDED = ['node_modules/.cache'];

/** Restores the archive at $CR_CACHE_URL; on success prints $CR_CACHE_MESSAGE. */
export function restoreScript(format: DependencyArchiveFormat): string {
  return [
    'set -o pipefail',
    `cd ${APP_DIR} || exit ${RESTORE_FAILED_EXIT}`,
    `cr_fail() { echo "dependencies could not be restored from cache ($1): installing them"; rm -rf node_modules; exit ${RESTORE_FAILED_EXIT}; }`,
    'rm -rf node_modules',
    'if command -v curl >/dev/null 2>&1; then cr_get() { curl -fsS --retry 2 --connect-timeout 10 "$CR_CACHE_URL"; }',
    'elif command -v wget >/dev/null 2>&1; then cr_get() { wget -q -O - "$CR_CACHE_URL"; }',
    'else cr_fail "the sandbox has neither curl nor wget"; fi',
    `cr_get | ${ARCHIVE_CODECS[format].decompress} | tar -x --no-same-owner -f - || cr_fail "the archive could not be downloaded or unpacked"`,
    `[ "$(head -c 64 ${DEPENDENCIES_MARKER} 2>/dev/null)" = "$CR_CACHE_KEY" ] || cr_fail "the archive holds no dependencies of this key"`,
    'echo "$CR_CACHE_MESSAGE"',
  ].join('\n');
}

/** Saves node_modules to $CR_CACHE_URL unless its archive is larger than $CR_CACHE_MAX_BYTES. */
export function saveScript(format: DependencyArchiveFormat): string {
  const archive = `${STATE_DIR}/dependency-cache-$CR_CACHE_KEY.partial`;
  return [
    'set -o pipefail',
    `cd ${APP_DIR} || exit 0`,
    // The background process leads its own process group: a later deployment stops it by that id.
    `echo "$$" > ${SAVE_PID_FILE}`,
    `cr_archive="${archive}"`,
    `trap 'rm -f "$cr_archive" ${SAVE_PID_FILE}' EXIT`,
    `trap 'echo "dependencies not saved to the cache: stopped (a later deployment changes node_modules)"; exit 143' TERM`,
    'cr_skip() { echo "dependencies not saved to the cache: $1"; exit 0; }',
    `[ -d node_modules ] || cr_skip "the install made no node_modules folder"`,
    `printf '%s' "$CR_CACHE_KEY" > ${DEPENDENCIES_MARKER} || cr_skip "node_modules could not be marked"`,
    `nice -n 19 tar -c -f - ${EXCLUDED.map((path) => `--exclude=${path}`).join(' ')} node_modules | nice -n 19 ${ARCHIVE_CODECS[format].compress} > "$cr_archive" || cr_skip "packing node_modules failed"`,
    'cr_size=$(stat -c %s "$cr_archive")',
    '[ "$cr_size" -le "$CR_CACHE_MAX_BYTES" ] || cr_skip "the archive is $cr_size bytes, more than the cache keeps ($CR_CACHE_MAX_BYTES)"',
    'if command -v curl >/dev/null 2>&1; then cr_put() { curl -fsS --retry 2 --connect-timeout 10 -H "Expect:" -T "$cr_archive" -o /dev/null "$CR_CACHE_URL"; }',
    'elif command -v wget >/dev/null 2>&1; then cr_put() { wget -q --method=PUT --body-file="$cr_archive" -O /dev/null "$CR_CACHE_URL"; }',
    'else cr_skip "the sandbox has neither curl nor wget"; fi',
    'cr_put || cr_skip "the upload failed"',
    `echo "${SAVE_SIGNATURE} ($cr_size bytes, key \${CR_CACHE_KEY:0:12})"`,
  ].join('\n');
}
