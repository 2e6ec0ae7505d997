/**
 * The corpus of realistic apps under test/fixtures/apps (see its README): each as a user has it,
 * with what a user expects of it once deployed.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { FIXTURE_APPS, projectFiles, type RequestFile } from './project-files.ts';

const execFileAsync = promisify(execFile);

export interface CorpusApp {
  name: string;
  directory: string;
  deployable: boolean;
  framework?: string;
  /** npm, yarn, pnpm, pip, or null for none. */
  packageManager?: string | null;
  expect: { path: string; text: string; healthRoute: boolean };
  plan: { install?: string | null; build?: string | null; start: string };
}

export interface FailingApp {
  name: string;
  directory: string;
  cause: string;
  failsAt: 'install' | 'start' | 'health';
  messageContains: string[];
  listensOn?: number;
}

export const CORPUS: readonly CorpusApp[] = (JSON.parse(readFileSync(`${FIXTURE_APPS}real/corpus.json`, 'utf8')) as { apps: CorpusApp[] }).apps;
export const FAILING: readonly FailingApp[] = (JSON.parse(readFileSync(`${FIXTURE_APPS}failing/cases.json`, 'utf8')) as { cases: FailingApp[] }).cases;

export function corpusApp(name: string): CorpusApp {
  const app = CORPUS.find((candidate) => candidate.name === name);
  if (!app) throw new Error(`no corpus app ${name}`);
  return app;
}

export function failingApp(name: string): FailingApp {
  const app = FAILING.find((candidate) => candidate.name === name);
  if (!app) throw new Error(`no failing app ${name}`);
  return app;
}

export function corpusFiles(app: CorpusApp): Promise<RequestFile[]> {
  return projectFiles(`real/${app.directory}`);
}

export function failingFiles(app: FailingApp): Promise<RequestFile[]> {
  return projectFiles(`failing/${app.directory}`);
}

/** GET with the machine's curl, as a user would: it resolves *.localhost to loopback by itself. */
export async function curl(url: string): Promise<{ status: number; body: string }> {
  const { stdout } = await execFileAsync('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code}', url], { maxBuffer: 16 * 1024 * 1024 });
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}
