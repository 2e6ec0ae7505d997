/**
 * The plan for a Node project: install with the project's package manager, build with
 * scripts.build (or the framework's own build), and start with scripts.start, a framework default,
 * a Procfile, an entry file, or the static file server.
 */
import { expandScript, nodeEntryFiles } from './command-text.ts';
import { detectNodeFramework, hasDependency, servesThroughVite, type NodeFramework } from './node-framework.ts';
import {
  CONVENTIONAL_ENTRIES,
  CONVENTIONAL_TYPESCRIPT_ENTRIES,
  findNodeEntry,
  isBuildOutput,
  resolveModuleFile,
  sourceCandidates,
} from './node-entry.ts';
import { nodeEngineNotes } from './node-engines.ts';
import { choosePackageManager, installStep, runBinary, runNodeFile, runScript, type PackageManagerChoice } from './package-manager.ts';
import { DEFAULT_SANDBOX_NODE_MAJOR, type PlanContext, type PlanEnv, type PlanStep, type PlannedPackageManager } from './plan-types.ts';
import { nestedPackageJsonDirs, readProcfileWeb, type PackageJson, type ProjectFiles } from './project-files.ts';
import type { RuntimePlan } from './runtime-plan.ts';
import { findStaticRoot, staticStartStep } from './static-plan.ts';
import { STATIC_SERVER_PATH } from './static-server.ts';

const NO_MANIFEST: PackageJson = { scripts: {}, dependencies: {}, devDependencies: {} };

/** `vite`, `vite dev`, `vite serve` or `vite preview` (with any flags): Vite's own servers, which ignore PORT. */
const VITE_SERVER_SCRIPT = /^\s*vite(?:\s+(?:dev|serve|preview))?(?:\s+-[^\s]*(?:\s+[^\s-][^\s]*)?)*\s*$/;
const NEXT_CONFIGS = ['next.config.js', 'next.config.mjs', 'next.config.ts', 'next.config.cjs', 'next.config.mts'];

interface NodeInput {
  files: ProjectFiles;
  manifest: PackageJson;
  hasManifest: boolean;
  pm?: PackageManagerChoice;
  framework?: NodeFramework;
  context: PlanContext;
  notes: string[];
  /** The notes about start candidates that did not fit (also in `notes`). */
  startNotes: string[];
}

type StartKind = 'script' | 'framework' | 'procfile' | 'entry' | 'static';

interface DetectedStart {
  step: PlanStep;
  kind: StartKind;
  /** For static starts: the build must run before the files exist. */
  needsBuild?: boolean;
}

export function planNode(files: ProjectFiles, manifest: PackageJson | undefined, context: PlanContext = {}): RuntimePlan {
  const notes: string[] = [];
  const input: NodeInput = {
    files,
    manifest: manifest ?? NO_MANIFEST,
    hasManifest: manifest !== undefined,
    pm: manifest ? choosePackageManager(files, manifest, context) : undefined,
    framework: manifest ? detectNodeFramework(manifest) : undefined,
    context,
    notes,
    startNotes: [],
  };
  // How the package manager was chosen matters only when there is something to install.
  if (input.pm && dependencyCount(input.manifest) > 0) notes.push(...input.pm.notes);
  const layoutNotes = workspaceNotes(input);
  notes.push(...layoutNotes);
  input.startNotes.push(...layoutNotes);

  const start = detectStart(input);
  const build = detectBuild(input, start);
  const isStatic = start?.kind === 'static';
  const dependencyInstall = detectInstall(input, build !== undefined);
  const install = isStatic && !build ? undefined : dependencyInstall;
  const detectedStartNotes =
    isStatic && !build && dependencyInstall ? ["serving static files: package.json's dependencies are not installed, since no build script needs them"] : [];
  notes.push(...scriptToolNotes(input, [build?.command, start?.step.command]), ...googleFontNotes(input));
  if (manifest) notes.push(...nodeEngineNotes(files, manifest, context.nodeMajorVersion ?? DEFAULT_SANDBOX_NODE_MAJOR));

  return {
    runtime: isStatic ? 'static' : 'node',
    framework: input.framework,
    packageManager: dependencyInstall && input.pm ? plannedPackageManager(input.pm) : undefined,
    install,
    installForOtherStart: dependencyInstall,
    runtimeForOtherStart: 'node',
    build,
    start: start?.step,
    startNotes: input.startNotes,
    lookedFor: [
      'options.startCommand',
      "scripts.start in package.json",
      'a framework default (Vite preview, next start)',
      'a Procfile web: line',
      "package.json's main",
      CONVENTIONAL_ENTRIES.filter((path) => path.endsWith('.js')).join('/'),
      'an index.html (in the root, public/, dist/ or build/)',
    ],
    env: [...(input.pm?.env ?? []), ...frameworkEnv(input)],
    providedFiles: isStatic ? ['static-server'] : undefined,
    notes,
    detectedStartNotes,
    envForStart: (command, source) => startEnv(input, command, source),
    entryFilesOf: (command) => entryFilesOf(input, command),
    language: 'javascript',
  };
}

function detectStart(input: NodeInput): DetectedStart | undefined {
  return (
    nextExportStart(input) ??
    preferredScriptStart(input) ??
    scriptStart(input) ??
    frameworkDefaultStart(input) ??
    procfileStart(input) ??
    entryStart(input) ??
    staticFolderStart(input)
  );
}

/** `output: 'export'` in next.config: `next build` writes a static site to out/ and `next start` refuses to run. */
function nextExportStart(input: NodeInput): DetectedStart | undefined {
  if (input.framework !== 'next') return undefined;
  const config = input.files.firstExisting(NEXT_CONFIGS);
  const text = config ? input.files.text(config) : undefined;
  if (!config || !text || !/\boutput\s*:\s*['"]export['"]/.test(text)) return undefined;
  const start = input.manifest.scripts.start;
  if (start && !/^\s*next\s+start\b/.test(start)) return undefined;
  return { step: staticStartStep('out', `${config} sets output: 'export', so the build writes a static site to out/ and \`next start\` cannot serve it`), kind: 'static', needsBuild: true };
}

/** Framework starts that are clearly better than the plain scripts.start. */
function preferredScriptStart(input: NodeInput): DetectedStart | undefined {
  const { scripts } = input.manifest;
  if (!input.pm) return undefined;
  if (input.framework === 'nest' && scripts['start:prod'] && scripts.build) {
    return {
      step: {
        command: runScript(input.pm, 'start:prod'),
        reason: `Nest app: scripts.start:prod (\`${scripts['start:prod']}\`) runs the compiled build, while scripts.start (\`${scripts.start ?? 'nest start'}\`) would compile the app again at every start`,
        source: 'detected',
      },
      kind: 'script',
    };
  }
  if (input.framework === 'vite' && scripts.start && VITE_SERVER_SCRIPT.test(scripts.start)) {
    return {
      step: {
        command: vitePreview(input.pm),
        reason: `Vite app: scripts.start (\`${scripts.start}\`) runs Vite's own server, which ignores PORT; the plan serves the build with Vite's preview server on $PORT instead`,
        source: 'detected',
      },
      kind: 'framework',
    };
  }
  return undefined;
}

function scriptStart(input: NodeInput): DetectedStart | undefined {
  const script = input.manifest.scripts.start;
  if (!script || !input.pm) return undefined;
  return {
    step: { command: runScript(input.pm, 'start'), reason: `package.json has scripts.start (\`${script}\`): run with ${packageManagerLabel(input.pm)}`, source: 'detected' },
    kind: 'script',
  };
}

function frameworkDefaultStart(input: NodeInput): DetectedStart | undefined {
  if (!input.pm) return undefined;
  if (input.framework === 'vite') {
    return {
      step: {
        command: vitePreview(input.pm),
        reason: "Vite app without scripts.start: Vite's preview server serves the build (dist/) on $PORT, on every interface (--host 0.0.0.0), and fails rather than pick another port (--strictPort)",
        source: 'detected',
      },
      kind: 'framework',
    };
  }
  if (input.framework === 'next') {
    return {
      step: {
        command: runBinary(input.pm, 'next', 'start --hostname 0.0.0.0 --port $PORT'),
        reason: 'Next.js app without scripts.start: `next start` serves the production build on $PORT, on every interface',
        source: 'detected',
      },
      kind: 'framework',
    };
  }
  return undefined;
}

function procfileStart(input: NodeInput): DetectedStart | undefined {
  const web = readProcfileWeb(input.files);
  if (!web) return undefined;
  return { step: { command: web, reason: "Procfile's web: line", source: 'detected' }, kind: 'procfile' };
}

function entryStart(input: NodeInput): DetectedStart | undefined {
  const willBuild = Boolean(input.manifest.scripts.build);
  const entry = findNodeEntry(input.files, input.hasManifest ? input.manifest : undefined, willBuild);
  if (entry) {
    return { step: { command: runNodeFile(input.pm, entry.file), reason: `${entry.reason}: run with node`, source: 'detected' }, kind: 'entry' };
  }
  const typescriptEntry = input.files.firstExisting(CONVENTIONAL_TYPESCRIPT_ENTRIES);
  if (!typescriptEntry) return undefined;
  const runner = ['tsx', 'ts-node'].find((name) => hasDependency(input.manifest, name));
  if (runner && input.pm) {
    return {
      step: { command: runBinary(input.pm, runner, typescriptEntry), reason: `${typescriptEntry} found and ${runner} is a dependency: ${runner} runs the TypeScript directly`, source: 'detected' },
      kind: 'entry',
    };
  }
  const nodeMajor = input.context.nodeMajorVersion ?? DEFAULT_SANDBOX_NODE_MAJOR;
  if (nodeMajor >= 23) {
    return {
      step: { command: runNodeFile(input.pm, typescriptEntry), reason: `${typescriptEntry} found: Node ${nodeMajor} runs TypeScript by stripping its types`, source: 'detected' },
      kind: 'entry',
    };
  }
  const note = `${typescriptEntry} found, but Node ${nodeMajor} cannot run TypeScript and neither tsx nor ts-node is a dependency: add a build script (tsc) and a start script, or tsx`;
  input.notes.push(note);
  input.startNotes.push(note);
  return undefined;
}

function staticFolderStart(input: NodeInput): DetectedStart | undefined {
  const dir = findStaticRoot(input.files);
  if (!dir) return undefined;
  return { step: staticStartStep(dir, `${dir === '.' ? 'index.html' : `${dir}/index.html`} found and nothing else to start`), kind: 'static' };
}

function vitePreview(pm: PackageManagerChoice): string {
  return runBinary(pm, 'vite', 'preview --host 0.0.0.0 --port $PORT --strictPort');
}

function detectBuild(input: NodeInput, start: DetectedStart | undefined): PlanStep | undefined {
  const { pm, manifest } = input;
  if (!pm) return undefined;
  if (manifest.scripts.build) {
    return {
      command: runScript(pm, 'build'),
      reason: `package.json has scripts.build (\`${manifest.scripts.build}\`): run with ${packageManagerLabel(pm)} after the install, which includes the devDependencies it needs`,
      source: 'detected',
    };
  }
  if (input.framework === 'next' && (start?.kind === 'framework' || start?.needsBuild || /\bnext\s+start\b/.test(manifest.scripts.start ?? ''))) {
    return { command: runBinary(pm, 'next', 'build'), reason: '`next start` needs a production build and package.json has no build script: `next build` makes it', source: 'detected' };
  }
  if (input.framework === 'vite' && start?.kind === 'framework') {
    return { command: runBinary(pm, 'vite', 'build'), reason: "Vite's preview server serves the build in dist/ and package.json has no build script: `vite build` makes it", source: 'detected' };
  }
  return typescriptBuild(input, start);
}

/** A start that runs a compiler's output (dist/...) that is not among the files, with no build script to write it. */
function typescriptBuild(input: NodeInput, start: DetectedStart | undefined): PlanStep | undefined {
  if (!start || !input.pm) return undefined;
  const output = nodeEntryFiles(expandScript(start.step.command, input.manifest)).find((file) => isBuildOutput(file) && !resolveModuleFile(input.files, file));
  if (!output) return undefined;
  const hasTsconfig = input.files.has('tsconfig.json');
  if (hasTsconfig && hasDependency(input.manifest, 'typescript')) {
    input.notes.push(`the start runs ${output}, which is not among the files, and package.json has no build script: the plan compiles it with tsc (add "build": "tsc" to package.json to make this explicit)`);
    return {
      command: runBinary(input.pm, 'tsc', ''),
      reason: `the start runs ${output}, which is not among the files and no build script writes it: tsc compiles the TypeScript with tsconfig.json`,
      source: 'detected',
    };
  }
  input.notes.push(
    `the start runs ${output}, which is not among the files, and package.json has no build script${hasTsconfig ? ' (tsconfig.json found, but typescript is not a dependency)' : ''}: upload the build output or add a build script`,
  );
  return undefined;
}

function detectInstall(input: NodeInput, hasBuild: boolean): PlanStep | undefined {
  if (!input.hasManifest || !input.pm) {
    input.notes.push('no package.json: nothing to install');
    return undefined;
  }
  if (dependencyCount(input.manifest) === 0) {
    input.notes.push('package.json lists no dependencies: nothing to install');
    return undefined;
  }
  const reason = hasBuild ? devDependenciesAtRisk(input) : undefined;
  if (reason) {
    input.notes.push(
      input.pm.includeDevFlag
        ? `${reason} would make ${input.pm.name} skip the devDependencies the build needs: the install adds ${input.pm.includeDevFlag}`
        : `${reason}: ${input.pm.name === 'bun' ? 'bun may skip' : 'check that the install keeps'} the devDependencies the build needs`,
    );
  }
  return installStep(input.pm, reason !== undefined);
}

/** Why the install might leave devDependencies out: the caller's NODE_ENV or the project's .npmrc. */
function devDependenciesAtRisk(input: NodeInput): string | undefined {
  if (input.context.userEnv?.NODE_ENV === 'production') return 'NODE_ENV=production in your env';
  const npmrc = input.files.text('.npmrc') ?? '';
  if (/^\s*(?:omit\s*=\s*dev|production\s*=\s*true|only\s*=\s*prod(?:uction)?)\s*$/m.test(npmrc)) return ".npmrc's setting to omit devDependencies";
  return undefined;
}

function frameworkEnv(input: NodeInput): PlanEnv[] {
  const env: PlanEnv[] = [];
  if (input.framework === 'next') {
    env.push({
      name: 'NEXT_TELEMETRY_DISABLED',
      value: '1',
      reason: 'Next.js sends anonymous usage telemetry unless told not to; this keeps the build and the server from calling its telemetry host',
      phases: ['build', 'start'],
    });
  }
  if (input.hasManifest && servesThroughVite(input.manifest)) {
    const domain = input.context.sandboxDomain;
    if (domain) {
      env.push({
        name: '__VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS',
        value: `.${domain}`,
        reason: `Vite's dev and preview servers answer 403 to host names they do not know; this allows the sandbox's <port>-<id>.${domain} names`,
        phases: ['start'],
      });
    } else {
      input.notes.push("no sandbox domain known: Vite's allowed-hosts check is left as is, so its server answers 403 to the sandbox's host name unless vite.config allows it");
    }
  }
  return env;
}

function startEnv(input: NodeInput, command: string, source: PlanStep['source']): PlanEnv[] {
  const env: PlanEnv[] = [];
  const text = expandScript(command, input.manifest);
  if (/\bfastify\s+start\b/.test(text)) {
    env.push({
      name: 'FASTIFY_ADDRESS',
      value: '0.0.0.0',
      reason: "fastify-cli's `fastify start` listens on localhost only unless given an address; this makes it listen on every interface",
      phases: ['start'],
    });
  }
  const leftToFramework = input.framework === 'next' || input.framework === 'vite' || command.includes(STATIC_SERVER_PATH);
  if (source === 'detected' && input.hasManifest && !leftToFramework) {
    env.push({
      name: 'NODE_ENV',
      value: 'production',
      reason: 'the app runs in production mode (Express and others cache views and hide stack traces); set for the start only, so the install still gets the devDependencies',
      phases: ['start'],
    });
  }
  return env;
}

/** The server files behind a start command: the file it runs, that file's TypeScript source, then the usual entry names. */
function entryFilesOf(input: NodeInput, command: string): string[] {
  const run = nodeEntryFiles(expandScript(command, input.manifest));
  const resolved = run.flatMap((file) => {
    const existing = resolveModuleFile(input.files, file) ?? (input.files.has(file) ? file : undefined);
    return [...(existing ? [existing] : []), ...sourceCandidates(file).filter((candidate) => input.files.has(candidate))];
  });
  const main = input.manifest.main ? resolveModuleFile(input.files, input.manifest.main) : undefined;
  const conventional = [...CONVENTIONAL_ENTRIES, ...CONVENTIONAL_TYPESCRIPT_ENTRIES].filter((path) => input.files.has(path));
  const nest = input.framework === 'nest' && input.files.has('src/main.ts') ? ['src/main.ts'] : [];
  return [...new Set([...resolved, ...(main ? [main] : []), ...nest, ...conventional])];
}

function workspaceNotes(input: NodeInput): string[] {
  const notes: string[] = [];
  if (!input.hasManifest) {
    const nested = nestedPackageJsonDirs(input.files);
    if (nested.length > 0) {
      notes.push(
        `package.json found in ${nested.slice(0, 3).map((dir) => `${dir}/`).join(', ')}${nested.length > 3 ? ' and more' : ''} but not at the root: the plan reads only the root; deploy that folder, or pass options.installCommand and options.startCommand`,
      );
    }
    return notes;
  }
  if (input.manifest.workspaces !== undefined || input.files.has('pnpm-workspace.yaml')) {
    notes.push("a workspace root (monorepo): the install covers every workspace, and the plan uses only the root package.json's scripts");
  }
  return notes;
}

/** Scripts that call pnpm/yarn by name, which the sandbox only runs through npx. */
function scriptToolNotes(input: NodeInput, commands: readonly (string | undefined)[]): string[] {
  const notes: string[] = [];
  for (const command of commands) {
    if (!command) continue;
    const expanded = expandScript(command, input.manifest);
    const script = expanded.split(' => ')[1];
    const tool = script ? /(?:^|[\s;&|(])(pnpm|yarn|bun)\s/.exec(script)?.[1] : undefined;
    if (tool && !(tool === 'bun' && input.context.sandboxTools?.includes('bun'))) {
      notes.push(`\`${script}\` calls ${tool}, which is not on the sandbox's PATH (the plan runs package managers through npx): the script may fail with "${tool}: command not found"`);
    }
  }
  return notes;
}

/** next/font/google downloads the fonts during `next build`: the build fails where fonts.googleapis.com is unreachable. */
function googleFontNotes(input: NodeInput): string[] {
  if (input.framework !== 'next') return [];
  const user = input.files.paths.find(
    (path) => /^(?:src\/)?(?:app|pages)\/.*\.[jt]sx?$/.test(path) && /from\s+['"]next\/font\/google['"]/.test(input.files.text(path) ?? ''),
  );
  return user ? [`${user} uses next/font/google: \`next build\` downloads the fonts from fonts.googleapis.com and fails if the sandbox cannot reach it (next/font/local avoids that)`] : [];
}

function dependencyCount(manifest: PackageJson): number {
  return Object.keys(manifest.dependencies).length + Object.keys(manifest.devDependencies).length;
}

function plannedPackageManager(pm: PackageManagerChoice): PlannedPackageManager {
  return { name: pm.name, ...(pm.version ? { version: pm.version } : {}), reason: pm.reason };
}

function packageManagerLabel(pm: PackageManagerChoice): string {
  return pm.runner === pm.name ? pm.name : `${pm.name} (${pm.runner})`;
}
