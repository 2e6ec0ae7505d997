/**
 * Before a redeploy's files arrive in a live sandbox: inline contents (or a sandbox with no record
 * of its files) empty the app directory except node_modules; a manifest redeploy removes only the
 * files its predecessor wrote that the new manifest no longer has (and directories left empty),
 * so unchanged files, node_modules and build output stay.
 */
import { APP_DIR } from '../app-layout.ts';
import type { Deployment } from '../deployment.ts';
import { StartFailedError } from '../errors.ts';
import type { SandboxHandle } from '../../sandbox/sandbox-provider.ts';
import { APP_FILES_PATH, REMOVE_LIST_PATH } from './app-files.ts';
import { SYNC_DOCUMENT, type SyncPlan } from './pending-upload.ts';
import type { StagedDocuments } from './staged-documents.ts';

const PREPARE_TIMEOUT_MS = 60_000;

export const EMPTY_APP_DIR_COMMAND =
  `mkdir -p ${APP_DIR} && find ${APP_DIR} -mindepth 1 -maxdepth 1 ! -name node_modules -exec rm -rf {} + && rm -f ${APP_FILES_PATH}`;

/** Removes the listed paths (relative to the app directory, NUL-separated), then their emptied parents. */
export const PRUNE_APP_DIR_COMMAND = [
  `cd ${APP_DIR}`,
  `xargs -0 -r rm -f -- < ${REMOVE_LIST_PATH}`,
  `{ xargs -0 -r -n 1 dirname < ${REMOVE_LIST_PATH} | sort -u | xargs -r rmdir -p --ignore-fail-on-non-empty 2>/dev/null; true; }`,
  `rm -f ${REMOVE_LIST_PATH}`,
].join(' && ');

export async function prepareAppDir(documents: StagedDocuments | undefined, deployment: Deployment, sandbox: SandboxHandle): Promise<void> {
  const sync = deployment.upload && documents ? await documents.get<SyncPlan>(deployment.deploymentId, SYNC_DOCUMENT) : undefined;
  // As before manifests: the emptying's exit status is not checked (what it cannot remove is overwritten).
  if (!sync?.incremental) return void (await sandbox.run(EMPTY_APP_DIR_COMMAND, { timeoutMs: PREPARE_TIMEOUT_MS }));
  if (sync.remove.length === 0) return;
  await sandbox.writeFiles([{ path: REMOVE_LIST_PATH, content: sync.remove.join('\0') }]);
  await run(sandbox, PRUNE_APP_DIR_COMMAND);
}

async function run(sandbox: SandboxHandle, command: string): Promise<void> {
  const result = await sandbox.run(command, { timeoutMs: PREPARE_TIMEOUT_MS });
  if (result.exitCode !== 0) throw new StartFailedError(`preparing the app directory failed: ${(result.stderr || result.stdout).trim().slice(0, 500)}`);
}
