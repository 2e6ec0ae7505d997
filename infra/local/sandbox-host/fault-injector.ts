/**
 * Makes the host answer the next matching requests with an error status, the way the cloud
 * does when it rate-limits or fails, so retry paths can be tested for real.
 */
export type FaultTarget = 'control-plane' | 'daemon';

export interface FaultRule {
  target: FaultTarget;
  /** Answer with this status instead of handling the request. */
  status?: number;
  /** Or: handle the request, then hold the answer this long (a slow provider, a Lambda that times out after the work is done). */
  delayMs?: number;
  /** How many matching requests fail; the ones after pass. */
  times: number;
  method?: string;
  /** Substring of the request path (with query) that a request must contain. */
  pathIncludes?: string;
  message?: string;
}

export class FaultInjector {
  #rules: FaultRule[] = [];
  #fired = 0;

  add(rule: FaultRule): void {
    this.#rules.push({ ...rule });
  }

  clear(): void {
    this.#rules = [];
  }

  /** How many requests were answered with an injected fault so far. */
  get fired(): number {
    return this.#fired;
  }

  /** The fault to answer this request with, if any (and counts it as used). */
  take(target: FaultTarget, method: string, path: string): FaultRule | undefined {
    const rule = this.#rules.find(
      (candidate) =>
        candidate.target === target &&
        candidate.times > 0 &&
        (!candidate.method || candidate.method === method) &&
        (!candidate.pathIncludes || path.includes(candidate.pathIncludes)),
    );
    if (!rule) return undefined;
    rule.times -= 1;
    this.#fired += 1;
    if (rule.times === 0) this.#rules = this.#rules.filter((candidate) => candidate !== rule);
    return rule;
  }
}
