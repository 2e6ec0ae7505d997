/**
 * Which package manager installs a Node project, and how to run it in a sandbox whose only
 * registry is npm's: yarn and pnpm run as pinned releases through `npx --yes` (corepack reaches
 * hosts other than the npm registry and fails there).
 */
import { shellQuote } from '../../shell-quote.ts';
import {
  berryReleaseForLockfile,
  lockfileOwner,
  pnpmMajorForLockfile,
  presentLockfiles,
  readPnpmLockfileVersion,
  readYarnLockfile,
  type LockfileName,
} from './lockfiles.ts';
import type { PackageJson, ProjectFiles } from './project-files.ts';
import { DEFAULT_SANDBOX_NODE_MAJOR, type PlanContext, type PlanEnv, type PlanStep } from './plan-types.ts';

export type NodePackageManagerName = 'npm' | 'yarn' | 'pnpm' | 'bun';

export interface PackageManagerChoice {
  name: NodePackageManagerName;
  /** The release the plan runs (e.g. '9.12.0' or '9'); absent for the sandbox's own npm. */
  version?: string;
  reason: string;
  /** How to invoke it: 'npm', 'bun', 'npx --yes pnpm@9', 'npx --yes @yarnpkg/cli-dist@4.5.0', ... */
  runner: string;
  /** 'berry' for Yarn 2+, whose commands and flags differ from Yarn 1's. */
  flavour?: 'classic' | 'berry';
  lockfile?: LockfileName;
  /** False for Yarn Plug'n'Play: there is no node_modules, so plain `node`/`npx` cannot resolve packages. */
  nodeModules: boolean;
  /** The install step, before the flag that forces devDependencies in. */
  installCommand: string;
  /** The flag that installs devDependencies even under NODE_ENV=production, when there is one. */
  includeDevFlag?: string;
  env: PlanEnv[];
  notes: string[];
}

interface DeclaredPackageManager {
  name: string;
  version?: string;
}

/** `packageManager` in package.json, e.g. "pnpm@9.12.0+sha512.abc": name and version, hash dropped. */
export function parsePackageManagerField(field: string | undefined): DeclaredPackageManager | undefined {
  if (!field) return undefined;
  const match = /^(@?[a-z0-9-]+)(?:@([^+\s]+))?/i.exec(field.trim());
  if (!match?.[1]) return undefined;
  return { name: match[1].toLowerCase(), version: match[2] };
}

export function choosePackageManager(files: ProjectFiles, manifest: PackageJson, context: PlanContext = {}): PackageManagerChoice {
  const lockfiles = presentLockfiles(files);
  const notes: string[] = [];
  const declared = parsePackageManagerField(manifest.packageManager);
  if (declared && !isNodePackageManager(declared.name)) {
    notes.push(`package.json's packageManager names "${manifest.packageManager}", which the plan does not know: the lockfiles decide`);
  }
  const chosenName = declared && isNodePackageManager(declared.name) ? declared.name : lockfiles[0] ? lockfileOwner(lockfiles[0]) : 'npm';
  const lockfile = lockfiles.find((name) => lockfileOwner(name) === chosenName);
  const ignored = lockfiles.filter((name) => name !== lockfile);
  if (ignored.length > 0) {
    notes.push(`${ignored.join(' and ')} ${ignored.length === 1 ? 'is' : 'are'} ignored: ${lockfile ?? `packageManager (${manifest.packageManager})`} decides the package manager`);
  }
  const declaredOwn = declared?.name === chosenName ? declared : undefined;
  const choice = planFor(chosenName, { files, lockfile, declared: declaredOwn, packageManagerField: manifest.packageManager, context });
  return { ...choice, notes: [...notes, ...choice.notes] };
}

interface ChoiceInput {
  files: ProjectFiles;
  lockfile?: LockfileName;
  declared?: DeclaredPackageManager;
  packageManagerField?: string;
  context: PlanContext;
}

function planFor(name: NodePackageManagerName, input: ChoiceInput): PackageManagerChoice {
  if (name === 'pnpm') return pnpmChoice(input);
  if (name === 'yarn') return yarnChoice(input);
  if (name === 'bun') return bunChoice(input);
  return npmChoice(input);
}

/** Why this package manager: the packageManager field when it decided, else the lockfile. */
function decidedBy(input: ChoiceInput): string {
  if (input.declared) return `package.json's packageManager is "${input.packageManagerField}"`;
  return `${input.lockfile} found`;
}

function npmChoice(input: ChoiceInput): PackageManagerChoice {
  const base = { name: 'npm' as const, runner: 'npm', nodeModules: true, includeDevFlag: '--include=dev', env: [] };
  const ownNpm = input.declared?.version ? ` (with the sandbox's own npm, not npm@${input.declared.version})` : '';
  if (input.lockfile) {
    return {
      ...base,
      lockfile: input.lockfile,
      installCommand: 'npm ci',
      reason: `${decidedBy(input)}: npm ci installs exactly the versions locked in ${input.lockfile}${ownNpm}`,
      notes: [],
    };
  }
  return {
    ...base,
    installCommand: 'npm install',
    reason: input.declared
      ? `${decidedBy(input)} and there is no package-lock.json: npm install resolves the versions package.json allows${ownNpm}`
      : 'no lockfile found: npm install resolves the versions package.json allows',
    notes: ['no lockfile: dependency versions are not locked, so each deploy may install newer releases than you tested'],
  };
}

function pnpmChoice(input: ChoiceInput): PackageManagerChoice {
  const notes: string[] = [];
  const lockfileVersion = input.lockfile ? readPnpmLockfileVersion(input.files.text(input.lockfile)) : undefined;
  let version = input.declared?.version ?? String(pnpmMajorForLockfile(lockfileVersion) ?? 9);
  let versionReason = input.declared?.version
    ? `pnpm ${version} (as packageManager asks)`
    : lockfileVersion
      ? pnpmMajorForLockfile(lockfileVersion)
        ? `pnpm ${version} (which writes lockfileVersion ${lockfileVersion})`
        : `pnpm 9 (lockfileVersion ${lockfileVersion} is not one the plan knows)`
      : 'pnpm 9 (no lockfile version to go by)';
  const nodeMajor = input.context.nodeMajorVersion ?? DEFAULT_SANDBOX_NODE_MAJOR;
  if (majorOf(version) === 11 && nodeMajor < 22) {
    notes.push(`packageManager asks for pnpm@${version}, which needs Node 22.13 or newer; the sandbox has Node ${nodeMajor}: using pnpm 10, which reads and writes the same lockfile (9.0)`);
    version = '10';
    versionReason = 'pnpm 10 (pnpm 11 cannot run on the sandbox\'s Node)';
  }
  const runner = `npx --yes pnpm@${version}`;
  const lockfileText = lockfileVersion ? `${input.lockfile} (lockfileVersion ${lockfileVersion})` : input.lockfile;
  if (input.lockfile) {
    return {
      name: 'pnpm',
      version,
      runner,
      lockfile: input.lockfile,
      nodeModules: true,
      installCommand: `${runner} install --frozen-lockfile`,
      includeDevFlag: '--prod=false',
      reason: `${input.declared ? `${decidedBy(input)} and ${lockfileText} found` : `${lockfileText} found`}: ${versionReason} installs exactly the locked versions (--frozen-lockfile), run through npx because the sandbox has no pnpm`,
      env: [],
      notes,
    };
  }
  return {
    name: 'pnpm',
    version,
    runner,
    nodeModules: true,
    installCommand: `${runner} install --no-frozen-lockfile`,
    includeDevFlag: '--prod=false',
    reason: `${decidedBy(input)} and there is no pnpm-lock.yaml: ${versionReason} resolves the versions package.json allows, run through npx because the sandbox has no pnpm`,
    env: [],
    notes: [...notes, 'no pnpm-lock.yaml: dependency versions are not locked, so each deploy may install newer releases than you tested'],
  };
}

function yarnChoice(input: ChoiceInput): PackageManagerChoice {
  const lockfile = input.lockfile ? readYarnLockfile(input.files.text(input.lockfile)) : undefined;
  const declaredMajor = input.declared?.version ? majorOf(input.declared.version) : undefined;
  const berry =
    declaredMajor !== undefined ? declaredMajor >= 2 : lockfile?.flavour === 'berry' || (lockfile?.flavour === 'unknown' && input.files.has('.yarnrc.yml'));
  return berry ? berryChoice(input, lockfile) : classicYarnChoice(input, lockfile);
}

function classicYarnChoice(input: ChoiceInput, lockfile: ReturnType<typeof readYarnLockfile> | undefined): PackageManagerChoice {
  const version = input.declared?.version ?? '1';
  const runner = `npx --yes yarn@${version}`;
  const notes: string[] = [];
  if (lockfile?.flavour === 'unknown') notes.push('yarn.lock could not be read: taken as a Yarn 1 lockfile');
  const base = { name: 'yarn' as const, version, runner, flavour: 'classic' as const, nodeModules: true, includeDevFlag: '--production=false', env: [] };
  if (input.lockfile) {
    return {
      ...base,
      lockfile: input.lockfile,
      installCommand: `${runner} install --frozen-lockfile`,
      reason: `${input.declared ? `${decidedBy(input)} and yarn.lock found` : 'yarn.lock (Yarn 1 format) found'}: Yarn ${version} installs exactly the locked versions (--frozen-lockfile), run through npx because the sandbox has no yarn`,
      notes,
    };
  }
  return {
    ...base,
    installCommand: `${runner} install`,
    reason: `${decidedBy(input)} and there is no yarn.lock: Yarn ${version} resolves the versions package.json allows, run through npx because the sandbox has no yarn`,
    notes: [...notes, 'no yarn.lock: dependency versions are not locked, so each deploy may install newer releases than you tested'],
  };
}

/** The first @yarnpkg/cli-dist release on the npm registry; older Yarn 2 releases are not there. */
const FIRST_CLI_DIST_RELEASE = [2, 4, 1] as const;

function berryChoice(input: ChoiceInput, lockfile: ReturnType<typeof readYarnLockfile> | undefined): PackageManagerChoice {
  const notes: string[] = [];
  const env: PlanEnv[] = [];
  const yarnrc = input.files.text('.yarnrc.yml') ?? '';
  const nodeLinker = /^nodeLinker:\s*['"]?([\w-]+)/m.exec(yarnrc)?.[1];
  const nodeModules = nodeLinker === 'node-modules' || nodeLinker === 'pnpm';
  const yarnPath = /^yarnPath:\s*['"]?([^'"\s#]+)/m.exec(yarnrc)?.[1];

  let runner: string;
  let version: string | undefined;
  let versionReason: string;
  if (yarnPath && input.files.has(yarnPath)) {
    runner = `node ${shellQuote(yarnPath)}`;
    versionReason = `the Yarn release the project ships (${yarnPath}, .yarnrc.yml's yarnPath)`;
  } else {
    if (yarnPath) {
      notes.push(`.yarnrc.yml's yarnPath points to ${yarnPath}, which is not among the files: YARN_IGNORE_PATH=1 makes Yarn ignore it`);
      env.push({ name: 'YARN_IGNORE_PATH', value: '1', reason: `.yarnrc.yml's yarnPath (${yarnPath}) is not among the uploaded files`, phases: ['install', 'build', 'start'] });
    }
    ({ version, versionReason } = berryVersion(input, lockfile, notes));
    runner = `npx --yes @yarnpkg/cli-dist@${version}`;
  }
  if (!nodeModules) {
    notes.push("Yarn Plug'n'Play (no nodeLinker: node-modules in .yarnrc.yml): commands run through yarn, since there is no node_modules folder");
  }
  const how = `run through npx from @yarnpkg/cli-dist (the Yarn CLI on the npm registry) because the sandbox has no yarn`;
  const base = { name: 'yarn' as const, version, runner, flavour: 'berry' as const, nodeModules, env };
  if (input.lockfile) {
    return {
      ...base,
      lockfile: input.lockfile,
      installCommand: `${runner} install --immutable`,
      reason: `${input.declared ? `${decidedBy(input)} and yarn.lock found` : 'yarn.lock (Yarn Berry format) found'}: ${versionReason} installs exactly the locked versions (--immutable)${runner.startsWith('npx') ? `, ${how}` : ''}`,
      notes,
    };
  }
  return {
    ...base,
    installCommand: `${runner} install --no-immutable`,
    reason: `${decidedBy(input)} and there is no yarn.lock: ${versionReason} resolves the versions package.json allows (--no-immutable, since Yarn refuses to create a lockfile in CI)${runner.startsWith('npx') ? `, ${how}` : ''}`,
    notes: [...notes, 'no yarn.lock: dependency versions are not locked, so each deploy may install newer releases than you tested'],
  };
}

function berryVersion(
  input: ChoiceInput,
  lockfile: ReturnType<typeof readYarnLockfile> | undefined,
  notes: string[],
): { version: string; versionReason: string } {
  const declared = input.declared?.version;
  if (declared) {
    if (compareVersions(declared, FIRST_CLI_DIST_RELEASE) < 0) {
      notes.push(`Yarn ${declared} is not on the npm registry (its CLI package starts at 2.4.1): using the latest Yarn 2`);
      return { version: '2', versionReason: 'Yarn 2 (the nearest release on the npm registry)' };
    }
    return { version: declared, versionReason: `Yarn ${declared} (as packageManager asks)` };
  }
  if (lockfile?.flavour === 'berry') {
    const release = berryReleaseForLockfile(lockfile);
    if (release.known) return { version: release.version, versionReason: `Yarn ${release.version} (which writes this lockfile format, __metadata version ${lockfile.metadataVersion})` };
    notes.push(`yarn.lock's __metadata version ${lockfile.metadataVersion ?? '(unreadable)'} is not one the plan knows: using the latest Yarn 4; set packageManager in package.json to pin the release`);
  } else {
    notes.push('yarn.lock could not be read: taken as a Yarn Berry lockfile because .yarnrc.yml exists; set packageManager in package.json to pin the release');
  }
  return { version: '4', versionReason: 'the latest Yarn 4' };
}

function bunChoice(input: ChoiceInput): PackageManagerChoice {
  const hasBun = input.context.sandboxTools?.includes('bun') ?? false;
  if (!hasBun) {
    const npm = npmChoice({ ...input, lockfile: undefined, declared: undefined });
    const found = input.lockfile ?? `packageManager "${input.packageManagerField}"`;
    return {
      ...npm,
      reason: `${found} found but the sandbox has no bun: npm install resolves the versions package.json allows`,
      notes: [`${found} found but the sandbox has no bun: using npm install, which cannot read bun's lockfile, so dependency versions are not locked`],
    };
  }
  const base = { name: 'bun' as const, version: input.declared?.version, runner: 'bun', nodeModules: true, env: [], notes: [] };
  if (input.lockfile) {
    return {
      ...base,
      lockfile: input.lockfile,
      installCommand: 'bun install --frozen-lockfile',
      reason: `${input.declared ? `${decidedBy(input)} and ${input.lockfile} found` : `${input.lockfile} found`}: bun installs exactly the locked versions (--frozen-lockfile)`,
    };
  }
  return {
    ...base,
    installCommand: 'bun install',
    reason: `${decidedBy(input)} and there is no bun.lock: bun resolves the versions package.json allows`,
    notes: ['no bun.lock: dependency versions are not locked, so each deploy may install newer releases than you tested'],
  };
}

/** The install step; `includeDev` adds the flag that keeps devDependencies under NODE_ENV=production. */
export function installStep(choice: PackageManagerChoice, includeDev: boolean): PlanStep {
  const flag = includeDev ? choice.includeDevFlag : undefined;
  const why = flag ? ` (${flag}: the build needs devDependencies even under NODE_ENV=production)` : '';
  return { command: flag ? `${choice.installCommand} ${flag}` : choice.installCommand, reason: `${choice.reason}${why}`, source: 'detected' };
}

/** Runs a package.json script with the project's package manager: `npm start`, `npm run build`, `npx --yes pnpm@9 run build`. */
export function runScript(choice: PackageManagerChoice, script: string): string {
  const name = /^[\w:.@/-]+$/.test(script) ? script : shellQuote(script);
  if (choice.name === 'npm') return script === 'start' ? 'npm start' : `npm run ${name}`;
  return `${choice.runner} run ${name}`;
}

/** Runs a dependency's binary: `npx vite ...` where node_modules exists, else through Yarn Plug'n'Play. */
export function runBinary(choice: PackageManagerChoice, binary: string, args: string): string {
  const command = args ? `${binary} ${args}` : binary;
  return choice.nodeModules ? `npx ${command}` : `${choice.runner} run ${command}`;
}

/** Runs a JavaScript file with node, inside Yarn Plug'n'Play's resolver when there is no node_modules. */
export function runNodeFile(choice: PackageManagerChoice | undefined, file: string): string {
  const path = /^[\w./@-]+$/.test(file) ? file : shellQuote(file);
  return !choice || choice.nodeModules ? `node ${path}` : `${choice.runner} node ${path}`;
}

function isNodePackageManager(name: string): name is NodePackageManagerName {
  return name === 'npm' || name === 'yarn' || name === 'pnpm' || name === 'bun';
}

function majorOf(version: string): number | undefined {
  const major = Number(/^(\d+)/.exec(version)?.[1]);
  return Number.isFinite(major) ? major : undefined;
}

function compareVersions(version: string, other: readonly number[]): number {
  const parts = version.split(/[.-]/).map((part) => Number(part));
  for (let index = 0; index < other.length; index += 1) {
    const difference = (Number.isFinite(parts[index]) ? (parts[index] as number) : 0) - (other[index] as number);
    if (difference !== 0) return difference;
  }
  return 0;
}
