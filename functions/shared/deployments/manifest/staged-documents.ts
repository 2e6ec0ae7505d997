/** Small JSON documents a manifest deployment keeps beside its staged files (`deployments/<id>/`). */
export interface StagedDocuments {
  put(deploymentId: string, name: string, value: unknown): Promise<string>;
  /** The raw text, for documents written into the sandbox as they are. */
  putText(deploymentId: string, name: string, text: string): Promise<string>;
  get<T>(deploymentId: string, name: string): Promise<T>;
  getText(key: string): Promise<string>;
}
