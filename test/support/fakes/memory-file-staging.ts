/**
 * Staged files in memory, keyed as the S3 adapter keys them (`deployments/<id>/batch-00000.json`,
 * `deployments/<id>/manifest.json`); a missing object is StagedFilesMissingError.
 */
import { StagedFilesMissingError } from '../../../functions/shared/deployments/errors.ts';
import type { DeploymentManifest, FileStaging, StagedBatchRef, StagedFile } from '../../../functions/shared/deployments/ports.ts';
import { CallControl, type CallControlOptions } from './call-control.ts';

export type StagingMethod = 'putBatch' | 'getBatch' | 'putManifest' | 'getManifest' | 'deleteAll';

const PREFIX = 'deployments/';

export class MemoryFileStaging implements FileStaging {
  readonly control: CallControl<StagingMethod>;
  readonly #objects = new Map<string, string>();

  constructor(options: CallControlOptions = {}) {
    this.control = new CallControl('staging', options);
  }

  /** The keys staged for a deployment, sorted. */
  keysOf(deploymentId: string): string[] {
    return [...this.#objects.keys()].filter((key) => key.startsWith(folder(deploymentId))).sort();
  }

  putBatch(deploymentId: string, index: number, files: readonly StagedFile[]): Promise<StagedBatchRef> {
    return this.control.call('putBatch', [deploymentId, index, files], () => {
      const key = `${folder(deploymentId)}batch-${String(index).padStart(5, '0')}.json`;
      this.#objects.set(key, JSON.stringify(files.map((file) => ({ path: file.path, content: file.content.toString('base64') }))));
      return { index, key, files: files.length, bytes: files.reduce((sum, file) => sum + file.content.length, 0) };
    });
  }

  getBatch(key: string): Promise<StagedFile[]> {
    return this.control.call('getBatch', [key], () => {
      const stored = JSON.parse(this.#read(key)) as { path: string; content: string }[];
      return stored.map((file) => ({ path: file.path, content: Buffer.from(file.content, 'base64') }));
    });
  }

  putManifest(manifest: DeploymentManifest): Promise<void> {
    return this.control.call('putManifest', [manifest], () => {
      this.#objects.set(`${folder(manifest.deploymentId)}manifest.json`, JSON.stringify(manifest));
    });
  }

  getManifest(deploymentId: string): Promise<DeploymentManifest> {
    return this.control.call('getManifest', [deploymentId], () => JSON.parse(this.#read(`${folder(deploymentId)}manifest.json`)) as DeploymentManifest);
  }

  deleteAll(deploymentId: string): Promise<void> {
    return this.control.call('deleteAll', [deploymentId], () => {
      for (const key of this.keysOf(deploymentId)) this.#objects.delete(key);
    });
  }

  #read(key: string): string {
    const body = this.#objects.get(key);
    if (body === undefined) throw new StagedFilesMissingError(key);
    return body;
  }
}

function folder(deploymentId: string): string {
  return `${PREFIX}${deploymentId}/`;
}
