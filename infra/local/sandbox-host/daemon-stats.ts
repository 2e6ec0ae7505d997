/**
 * What a sandbox's daemon was asked, for operators and tests: every request by route, and every
 * file written through `POST /files` (in order). Shown by `GET /_host/sandboxes`.
 */
export class DaemonStats {
  requests = 0;
  readonly byRoute: Record<string, number> = {};
  readonly filesWritten: string[] = [];
  bytesWritten = 0;

  countRequest(method: string, path: string): void {
    this.requests += 1;
    const route = `${method} ${path.split('?')[0]}`;
    this.byRoute[route] = (this.byRoute[route] ?? 0) + 1;
  }

  countWrite(path: string, bytes: number): void {
    this.filesWritten.push(path);
    this.bytesWritten += bytes;
  }

  toJSON() {
    return { requests: this.requests, byRoute: this.byRoute, filesWritten: this.filesWritten, bytesWritten: this.bytesWritten };
  }
}
