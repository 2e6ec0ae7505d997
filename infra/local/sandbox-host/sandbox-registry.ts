/**
 * The live sandboxes of one host: creation, lookup, lifetime and teardown. A sandbox that is
 * killed or outlives its lifetime is destroyed with every process in it and then is unknown,
 * which the daemon answers with 502 and the control plane with 404, as in the cloud.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalSandbox } from './local-sandbox.ts';
import type { ProcessLauncher } from './process-launcher.ts';
import { BrowserPorts } from './browser-ports.ts';
import type { SandboxLimits } from './sandbox-limits.ts';

export interface CreateSandboxRequest {
  templateId: string;
  metadata: Record<string, string>;
  envVars: Record<string, string>;
  lifetimeMs: number;
  secure: boolean;
  limits: SandboxLimits;
}

export interface SandboxRegistryOptions {
  stateDir: string;
  launcher: ProcessLauncher;
  clientId?: string;
}

export class SandboxRegistry {
  readonly clientId: string;
  readonly browserPorts = new BrowserPorts();
  readonly #sandboxes = new Map<string, LocalSandbox>();
  readonly #lifetimeTimers = new Map<string, NodeJS.Timeout>();
  readonly #sandboxesDir: string;
  readonly #launcher: ProcessLauncher;
  /** Every sandbox killed so far (ids), for tests and operators. */
  killedCount = 0;

  constructor(options: SandboxRegistryOptions) {
    this.#sandboxesDir = join(options.stateDir, 'sandboxes');
    this.#launcher = options.launcher;
    this.clientId = options.clientId ?? randomBytes(4).toString('hex');
  }

  /** Ends whatever an earlier host left behind in the state directory (after a crash). */
  async recoverFromCrash(): Promise<number> {
    await mkdir(this.#sandboxesDir, { recursive: true });
    const leftovers = await readdir(this.#sandboxesDir);
    for (const name of leftovers) {
      const dir = join(this.#sandboxesDir, name);
      await this.#launcher.reapLeftovers(join(dir, 'root'));
      await rm(dir, { recursive: true, force: true });
    }
    return leftovers.length;
  }

  async create(request: CreateSandboxRequest): Promise<LocalSandbox> {
    const sandboxId = randomBytes(10).toString('hex');
    const dir = join(this.#sandboxesDir, sandboxId);
    const rootDir = join(dir, 'root');
    await mkdir(rootDir, { recursive: true });
    try {
      const runtime = await this.#launcher.createRuntime({ sandboxId, rootDir, limits: request.limits });
      const sandbox = new LocalSandbox({ sandboxId, clientId: this.clientId, rootDir, runtime, ...request });
      this.#sandboxes.set(sandboxId, sandbox);
      this.#scheduleEnd(sandbox);
      // A sandbox whose agent died is gone, as one whose VM died is in the cloud.
      runtime.onEnded((reason) => {
        console.error(`[sandbox-host] sandbox ${sandboxId} ended by itself: ${reason}`);
        void this.kill(sandboxId);
      });
      return sandbox;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Accepts the SDK's `<sandboxID>-<clientID>` as well as the bare sandbox id. */
  get(id: string): LocalSandbox | undefined {
    const [sandboxId, clientId] = id.split('-');
    if (clientId !== undefined && clientId !== this.clientId) return undefined;
    return this.#sandboxes.get(sandboxId ?? '');
  }

  list(): LocalSandbox[] {
    return [...this.#sandboxes.values()];
  }

  setLifetime(sandbox: LocalSandbox, lifetimeMs: number): void {
    sandbox.endAt = new Date(Date.now() + lifetimeMs);
    this.#scheduleEnd(sandbox);
  }

  /** Destroys the sandbox and everything running in it; false if it was not live. */
  async kill(id: string): Promise<boolean> {
    const sandbox = this.get(id);
    if (!sandbox) return false;
    this.#sandboxes.delete(sandbox.sandboxId);
    clearTimeout(this.#lifetimeTimers.get(sandbox.sandboxId));
    this.#lifetimeTimers.delete(sandbox.sandboxId);
    this.browserPorts.closeSandbox(sandbox.sandboxId);
    await sandbox.runtime.destroy();
    await rm(join(this.#sandboxesDir, sandbox.sandboxId), { recursive: true, force: true });
    this.killedCount += 1;
    return true;
  }

  async killAll(): Promise<void> {
    await Promise.all(this.list().map((sandbox) => this.kill(sandbox.sandboxId)));
  }

  #scheduleEnd(sandbox: LocalSandbox): void {
    clearTimeout(this.#lifetimeTimers.get(sandbox.sandboxId));
    const delay = Math.max(0, sandbox.endAt.getTime() - Date.now());
    // setTimeout holds at most ~24.8 days; longer lifetimes re-arm on the way.
    const timer = setTimeout(() => {
      if (sandbox.endAt.getTime() > Date.now()) this.#scheduleEnd(sandbox);
      else void this.kill(sandbox.sandboxId);
    }, Math.min(delay, 2 ** 31 - 1));
    timer.unref();
    this.#lifetimeTimers.set(sandbox.sandboxId, timer);
  }
}
