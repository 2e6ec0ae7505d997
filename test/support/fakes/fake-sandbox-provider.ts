/**
 * The sandbox port in memory. Sandboxes live until killed or until their expiry passes on the
 * fake clock; `list` and `isAlive` see only live ones; `connect` to an unknown or ended sandbox
 * is SandboxNotFoundError (the control plane forgets ended sandboxes), and a handle's calls on an
 * ended one are SandboxGoneError. Port URLs are served by the provider's `fetch`: a process
 * listening on the port answers, otherwise the proxy's 502. Provider calls and handle calls each
 * have a CallControl for faults and hooks; every call goes into the shared journal.
 */
import { SandboxNotFoundError } from '../../../functions/shared/sandbox/errors.ts';
import type {
  CreateSandboxInput,
  SandboxHandle,
  SandboxMetadata,
  SandboxProvider,
  SandboxSummary,
} from '../../../functions/shared/sandbox/sandbox-provider.ts';
import { CallControl, type CallControlOptions } from './call-control.ts';
import { CommandRules, type CommandMatch, type ProgramBehaviour, type RunResponder } from './command-rules.ts';
import { FakeSandbox } from './fake-sandbox.ts';
import { FakeSandboxHandle, type HandleMethod } from './fake-sandbox-handle.ts';

export type ProviderMethod = 'create' | 'connect' | 'list' | 'extendLifetime' | 'kill' | 'isAlive';

export const FAKE_SANDBOX_DOMAIN = 'sandboxes.fake.test';

export interface FakeSandboxProviderOptions extends CallControlOptions {
  now?: () => Date;
  domain?: string;
}

export interface SeedSandboxInput {
  metadata: Partial<SandboxMetadata> & Record<string, string>;
  env?: Record<string, string>;
  /** Default: now. */
  startedAt?: Date | string;
  /** Default: an hour after it started. */
  expiresAt?: Date | string;
}

export class FakeSandboxProvider implements SandboxProvider {
  readonly control: CallControl<ProviderMethod>;
  /** Faults and hooks of the calls made on connected sandboxes (run, writeFiles, ...). */
  readonly handleControl: CallControl<HandleMethod>;
  /** Every sandbox ever created or seeded, ended ones included. */
  readonly sandboxes = new Map<string, FakeSandbox>();
  readonly #commands = new CommandRules<RunResponder>();
  readonly #programs = new CommandRules<ProgramBehaviour>();
  readonly #now: () => Date;
  readonly #domain: string;
  #nextId = 1;

  constructor(options: FakeSandboxProviderOptions = {}) {
    this.control = new CallControl('sandboxes', options);
    this.handleControl = new CallControl('sandbox', options);
    this.#now = options.now ?? (() => new Date());
    this.#domain = options.domain ?? FAKE_SANDBOX_DOMAIN;
  }

  /** What `run` answers in every sandbox for matching commands (a sandbox's own rules come first). */
  onRun(match: CommandMatch, responder: RunResponder, times?: number): this {
    this.#commands.add(match, responder, times);
    return this;
  }

  /** What a matching background process does when it starts, in every sandbox. */
  onStart(match: CommandMatch, behaviour: ProgramBehaviour, times?: number): this {
    this.#programs.add(match, behaviour, times);
    return this;
  }

  /** A live sandbox that exists already (created earlier, by anyone); not a call of the port. */
  seed(input: SeedSandboxInput): FakeSandbox {
    const startedAt = new Date(input.startedAt ?? this.#now());
    return this.#add(input.metadata, input.env ?? {}, startedAt, new Date(input.expiresAt ?? startedAt.getTime() + 3600_000));
  }

  sandbox(sandboxId: string): FakeSandbox {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) throw new Error(`the fake provider has no sandbox ${sandboxId}`);
    return sandbox;
  }

  /** Live sandboxes, optionally only those carrying a deployment id in their metadata. */
  live(deploymentId?: string): FakeSandbox[] {
    return [...this.sandboxes.values()].filter((sandbox) => sandbox.alive && (deploymentId === undefined || sandbox.metadata.deploymentId === deploymentId));
  }

  /** `https://<port>-<sandboxId>.<domain>`, as the provider exposes a port. */
  readonly portUrl = (sandboxId: string, port: number): string => `https://${port}-${sandboxId}.${this.#domain}`;

  /** The sandboxes' port URLs as the internet sees them: a listening process answers, else 502. */
  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    this.control.journal.record('app.fetch', [request.url]);
    const target = this.#target(new URL(request.url));
    if (!target) return new Response('sandbox not found', { status: 502 });
    const listener = [...target.sandbox.processes.values()].map((process) => process.listening.get(target.port)).find(Boolean);
    if (!listener) return new Response(`The sandbox is running but port ${target.port} is not open`, { status: 502 });
    return answerOrAbort(listener.handler(request), init?.signal ?? undefined);
  };

  create(input: CreateSandboxInput): Promise<SandboxHandle> {
    return this.control.call('create', [input], () => {
      const now = this.#now();
      const sandbox = this.#add(input.metadata, input.env ?? {}, now, new Date(now.getTime() + input.lifetimeSeconds * 1000));
      return this.#handle(sandbox);
    });
  }

  connect(sandboxId: string): Promise<SandboxHandle> {
    return this.control.call('connect', [sandboxId], () => this.#handle(this.#liveOrNotFound(sandboxId)));
  }

  list(filter: Partial<SandboxMetadata>): Promise<SandboxSummary[]> {
    return this.control.call('list', [filter], () =>
      this.live()
        .filter((sandbox) => Object.entries(filter).every(([key, value]) => value === undefined || sandbox.metadata[key] === value))
        .map((sandbox) => ({ sandboxId: sandbox.sandboxId, metadata: { ...sandbox.metadata }, startedAt: new Date(sandbox.startedAt), expiresAt: new Date(sandbox.expiresAt) })),
    );
  }

  extendLifetime(sandboxId: string, lifetimeSeconds: number): Promise<void> {
    return this.control.call('extendLifetime', [sandboxId, lifetimeSeconds], () => {
      this.#liveOrNotFound(sandboxId).expiresAt = new Date(this.#now().getTime() + lifetimeSeconds * 1000);
    });
  }

  kill(sandboxId: string): Promise<void> {
    return this.control.call('kill', [sandboxId], () => this.#end(sandboxId));
  }

  isAlive(sandboxId: string): Promise<boolean> {
    return this.control.call('isAlive', [sandboxId], () => this.sandboxes.get(sandboxId)?.alive ?? false);
  }

  #add(metadata: Record<string, string | undefined>, env: Record<string, string>, startedAt: Date, expiresAt: Date): FakeSandbox {
    const sandboxId = `sbx${String(this.#nextId++).padStart(4, '0')}`;
    const definedMetadata = Object.fromEntries(Object.entries(metadata).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const sandbox = new FakeSandbox({ sandboxId, metadata: definedMetadata, env, startedAt, expiresAt, now: this.#now });
    this.sandboxes.set(sandboxId, sandbox);
    return sandbox;
  }

  #end(sandboxId: string): void {
    // Idempotent: a sandbox that is already gone (or never existed) is not an error.
    this.sandboxes.get(sandboxId)?.end();
  }

  #liveOrNotFound(sandboxId: string): FakeSandbox {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox?.alive) throw new SandboxNotFoundError(`sandbox ${sandboxId} not found`);
    return sandbox;
  }

  #handle(sandbox: FakeSandbox): FakeSandboxHandle {
    return new FakeSandboxHandle(sandbox, {
      control: this.handleControl,
      commands: this.#commands,
      programs: this.#programs,
      now: this.#now,
      portUrl: this.portUrl,
      kill: async (sandboxId) => this.#end(sandboxId),
    });
  }

  #target(url: URL): { sandbox: FakeSandbox; port: number } | undefined {
    const match = new RegExp(`^(\\d+)-([^.]+)\\.${this.#domain.replaceAll('.', '\\.')}$`).exec(url.hostname);
    const sandbox = match && this.sandboxes.get(match[2]!);
    return sandbox?.alive ? { sandbox, port: Number(match![1]) } : undefined;
  }
}

/** The app's answer, unless the caller gives up first (the probe's timeout). */
function answerOrAbort(answer: Response | Promise<Response>, signal: AbortSignal | undefined): Promise<Response> {
  if (!signal) return Promise.resolve(answer);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    Promise.resolve(answer).then(resolve, reject);
  });
}
