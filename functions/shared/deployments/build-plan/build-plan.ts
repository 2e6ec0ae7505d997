/**
 * planBuild: turns a project's files into a build plan (package manager, install, build, start,
 * port, extra env) with a reason for every choice. Each option the caller gives replaces its part.
 * Pure: reads only the files it is given.
 */
import { expandScript, passesPortVariable } from './command-text.ts';
import { PlanError } from './plan-error.ts';
import { DEFAULT_APP_PORT, type BuildPlan, type PlanContext, type PlanEnv, type PlanOverrides, type PlanStep, type ProjectFile } from './plan-types.ts';
import { planNode } from './node-plan.ts';
import { entryFilePort, fastifyListensOnLoopback, portOfCommand, toolHonouringPort } from './port-detection.ts';
import { ProjectFiles, readPackageJson, type PackageJson } from './project-files.ts';
import { planPython } from './python-plan.ts';
import type { RuntimePlan } from './runtime-plan.ts';

export { PlanError, type PlanErrorField } from './plan-error.ts';
export { STATIC_SERVER_PATH, STATIC_SERVER_SOURCE } from './static-server.ts';
export { DEFAULT_APP_PORT } from './plan-types.ts';
export type * from './plan-types.ts';

const ALL_PHASES = ['install', 'build', 'start'] as const;
const PYTHON_MARKERS = ['requirements.txt', 'pyproject.toml', 'setup.py', 'Pipfile', 'manage.py'];
const PYTHON_ENTRIES = ['app.py', 'main.py', 'server.py', 'run.py', 'wsgi.py', 'asgi.py'];

export function planBuild(files: readonly ProjectFile[], overrides: PlanOverrides = {}, context: PlanContext = {}): BuildPlan {
  const project = new ProjectFiles(files);
  const manifest = readPackageJson(project);
  const runtimeNotes: string[] = [];
  const detected = chooseRuntime(project, manifest, runtimeNotes) === 'python' ? planPython(project) : planNode(project, manifest, context);

  const startGiven = overridden(overrides.startCommand, 'startCommand');
  const install = overridden(overrides.installCommand, 'installCommand') ?? (startGiven ? detected.installForOtherStart : detected.install);
  const build = overridden(overrides.buildCommand, 'buildCommand') ?? detected.build;
  const start = startGiven ?? detected.start;
  if (!start) throw noStartCommand(detected);
  const notes = [...runtimeNotes, ...detected.notes, ...(startGiven ? [] : detected.detectedStartNotes)];

  const port = planPort(project, manifest, detected, start, overrides.port, notes);
  const env = withoutDuplicates([
    { name: 'PORT', value: String(port.value), reason: `the port the deployment reaches the app on (${port.source === 'default' ? 'the default' : port.source === 'option' ? 'options.port' : 'detected'})`, phases: ALL_PHASES },
    { name: 'HOST', value: '0.0.0.0', reason: 'servers that read HOST listen on every interface, where the sandbox forwards requests', phases: ALL_PHASES },
    ...detected.env,
    ...detected.envForStart(start.command, start.source),
  ]);

  return {
    runtime: startGiven ? detected.runtimeForOtherStart : detected.runtime,
    ...(detected.framework ? { framework: detected.framework } : {}),
    ...(detected.packageManager ? { packageManager: detected.packageManager } : {}),
    ...(install ? { install } : {}),
    ...(build ? { build } : {}),
    start,
    port,
    env,
    ...(detected.providedFiles && !startGiven ? { providedFiles: detected.providedFiles } : {}),
    notes,
  };
}

function overridden(command: string | undefined, option: 'installCommand' | 'buildCommand' | 'startCommand'): PlanStep | undefined {
  if (command === undefined || command.trim() === '') return undefined;
  return { command, reason: `given as options.${option}`, source: 'option' };
}

function chooseRuntime(files: ProjectFiles, manifest: PackageJson | undefined, notes: string[]): 'node' | 'python' {
  const pythonDependencies = PYTHON_MARKERS.find((path) => files.has(path));
  const pythonEntry = PYTHON_ENTRIES.find((path) => files.has(path));
  const python = pythonDependencies ?? pythonEntry;
  if (!python) return 'node';
  if (!manifest) return 'python';
  if (pythonDependencies && !manifest.scripts.start) {
    notes.push(`both package.json and ${pythonDependencies} found: taken as a Python app, since package.json has no start script`);
    return 'python';
  }
  notes.push(`${python} found beside package.json: taken as a Node app${manifest.scripts.start ? ', since package.json has a start script' : ''}`);
  return 'node';
}

function planPort(
  files: ProjectFiles,
  manifest: PackageJson | undefined,
  detected: RuntimePlan,
  start: PlanStep,
  optionPort: number | undefined,
  notes: string[],
): BuildPlan['port'] {
  const commandText = detected.language === 'javascript' ? expandScript(start.command, manifest) : start.command;
  const label = start.source === 'option' ? 'options.startCommand' : 'the start command';
  const fromCommand = portOfCommand(commandText, label);
  const entry = entryFilePort(files, detected.entryFilesOf(start.command), detected.language);
  const fromSource = fromCommand || passesPortVariable(commandText) ? undefined : entry;
  notes.push(...hostNotes(files, detected, commandText, entry?.path, entry?.bindsLoopback ?? false));

  if (optionPort !== undefined) {
    const detectedPort = fromCommand?.port ?? fromSource?.port;
    if (detectedPort !== undefined && detectedPort !== optionPort) {
      notes.push(`options.port is ${optionPort}, but ${fromCommand ? fromCommand.reason : `${fromSource?.path} listens on ${detectedPort} (hard-coded)`}`);
    }
    return { value: optionPort, reason: 'given as options.port', source: 'option' };
  }
  if (fromCommand) return { value: fromCommand.port, reason: fromCommand.reason, source: 'detected' };
  if (fromSource?.port !== undefined) {
    return { value: fromSource.port, reason: `${fromSource.path} listens on ${fromSource.port}, hard-coded (it does not read PORT)`, source: 'detected' };
  }
  const honouring = toolHonouringPort(commandText);
  const why = passesPortVariable(commandText)
    ? 'the start command is given $PORT'
    : honouring
      ? `the start command runs ${honouring}, which listens on PORT`
      : entry?.readsPortVariable
      ? `${entry.path} reads PORT`
      : 'no port found in the start command or the server\'s source';
  return { value: DEFAULT_APP_PORT, reason: `${why}: ${DEFAULT_APP_PORT} is the default, set as PORT`, source: 'default' };
}

/** Servers that listen on 127.0.0.1 only: said (they work, through the sandbox's forward), since the user may know the trap from elsewhere. */
function hostNotes(files: ProjectFiles, detected: RuntimePlan, commandText: string, entryPath: string | undefined, bindsLoopback: boolean): string[] {
  if (bindsLoopback && entryPath) return [`${entryPath} listens on 127.0.0.1/localhost only: the sandbox forwards its port to it, so it is reachable all the same`];
  if (detected.framework !== 'fastify' || /\bfastify\s+start\b/.test(commandText) || !entryPath) return [];
  const text = files.text(entryPath);
  return text && fastifyListensOnLoopback(text)
    ? [`${entryPath} calls Fastify's listen() without a host, which binds 127.0.0.1 only: the sandbox forwards its port to it, so it is reachable all the same`]
    : [];
}

/** Says what was looked for and what to pass, and why the candidates that came close did not fit. */
function noStartCommand(detected: RuntimePlan): PlanError {
  const example = detected.language === 'python' ? 'python3 app.py' : 'node server.js';
  const remarks = detected.startNotes.length > 0 ? ` ${detected.startNotes.join('; ')}.` : '';
  return new PlanError(
    'options.startCommand',
    `no start command found: looked for ${detected.lookedFor.join(', ')}; pass options.startCommand (e.g. "${example}").${remarks}`,
  );
}

function withoutDuplicates(env: PlanEnv[]): PlanEnv[] {
  const seen = new Set<string>();
  return env.filter((entry) => !seen.has(entry.name) && seen.add(entry.name));
}
