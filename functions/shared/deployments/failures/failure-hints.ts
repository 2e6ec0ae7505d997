/**
 * A sentence a user can act on, for failures whose cause is known from the output: which
 * dependency is missing, which command does not exist, which port is taken. Each rule reads the
 * output (and what else is known about the failure) and answers a hint, or nothing.
 */
export type FailurePhase = 'install' | 'build' | 'start' | 'health';

export interface FailureFacts {
  phase: FailurePhase;
  /** The command that failed, as the plan ran it. */
  command?: string;
  exitCode?: number;
  /** The output of the command or the app (already cut to its cause lines or not). */
  output: string;
  /** The port the app was expected on. */
  port?: number;
  /** Whether an install ran before the app started. */
  installed?: boolean;
  /** Memory limit of the sandbox when the kernel killed a process for exceeding it. */
  outOfMemory?: { limitBytes?: number };
}

interface HintRule {
  name: string;
  hint(facts: FailureFacts): string | undefined;
}

const RULES: readonly HintRule[] = [
  {
    name: 'out of memory',
    hint: ({ outOfMemory }) =>
      outOfMemory ? `out of memory: the sandbox's limit is ${formatLimit(outOfMemory.limitBytes)} and the kernel killed the process that went past it` : undefined,
  },
  {
    name: 'missing module',
    hint: ({ output, installed }) => {
      const match = /Cannot find (?:module|package) '([^']+)'/.exec(output) ?? /ModuleNotFoundError: No module named '([^']+)'/.exec(output);
      if (!match) return undefined;
      const name = match[1]!;
      if (name.startsWith('/') || name.startsWith('.')) return `the file ${name} does not exist in the app: check the start command and the build output`;
      const python = match[0].startsWith('ModuleNotFoundError');
      if (python) return `the Python module "${name}" is not installed: add it to requirements.txt`;
      return installed
        ? `the dependency "${bare(name)}" is not installed: add it to "dependencies" in package.json`
        : `the dependency "${bare(name)}" is not installed and no install ran: add package.json dependencies (and a lockfile)`;
    },
  },
  {
    name: 'npm ci without lockfile',
    hint: ({ output }) =>
      /can only install (?:packages )?with an existing package-lock\.json|npm ci.*requires.*lock/i.test(output) || /^npm ci\b.*\n.*Clean install a project/m.test(output)
        ? 'npm ci needs a package-lock.json (or npm-shrinkwrap.json): commit your lockfile, or use npm install'
        : undefined,
  },
  {
    name: 'lockfile out of date',
    hint: ({ output }) =>
      /`npm ci` can only install packages when your package\.json and package-lock\.json .* are in sync|ERR_PNPM_OUTDATED_LOCKFILE|Your lockfile needs to be updated|The lockfile would have been modified/i.test(output)
        ? 'the lockfile does not match package.json: run the install locally and commit the updated lockfile'
        : undefined,
  },
  {
    name: 'version does not exist',
    hint: ({ output }) => {
      const match = /No matching version found for (\S+?)\.?(?:\s|$)/.exec(output) ?? /ETARGET/.exec(output);
      if (!match) return undefined;
      return `a dependency version does not exist on the npm registry${match[1] ? ` (${match[1]})` : ''}: fix the version in package.json`;
    },
  },
  {
    name: 'pip externally managed',
    hint: ({ output }) =>
      /externally-managed-environment/.test(output) ? 'pip refuses to install into the system Python (PEP 668): install into a virtualenv (python3 -m venv .venv)' : undefined,
  },
  {
    name: 'registry unreachable',
    hint: ({ output }) =>
      /(ENOTFOUND|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EAI_AGAIN)[^\n]*registry|network request to [^\n]* failed|request to https?:\/\/[^\s]+ failed/i.test(output)
        ? 'the package registry could not be reached from the sandbox (only the npm registry is allowed): check the registry URLs in your lockfile and .npmrc'
        : undefined,
  },
  {
    name: 'port in use',
    hint: ({ output }) => {
      const match = /EADDRINUSE[^\n]*?:(\d+)/.exec(output) ?? /address already in use[^\n]*?(\d{2,5})/i.exec(output);
      if (!match && !/EADDRINUSE|address already in use/i.test(output)) return undefined;
      return `port ${match?.[1] ?? ''} is already in use in the sandbox: another process listens there (a previous app that daemonized?)`.replace('port  ', 'the port ');
    },
  },
  {
    name: 'command not found',
    hint: ({ output, exitCode }) => {
      // sh: `sh: 1: name: not found`; bash: `bash: line 1: name: command not found`.
      const match = /([\w@./+-]*[A-Za-z_][\w@./+-]*): (?:command )?not found/.exec(output.replace(/^(?:\S+: )?(?:line )?\d+: /gm, ''));
      if (match) return `the command "${match[1]}" does not exist in the sandbox: add the package that provides it to package.json, or fix the command`;
      return exitCode === 127 ? 'the command does not exist in the sandbox (exit code 127)' : undefined;
    },
  },
  {
    name: 'next without build',
    hint: ({ output }) =>
      /Could not find a production build/.test(output) ? 'next start needs a build first: add "build": "next build" to package.json scripts' : undefined,
  },
  {
    name: 'font download',
    hint: ({ output }) =>
      /Failed to fetch .+ from Google Fonts/.test(output)
        ? 'the build downloads fonts from fonts.googleapis.com, which this sandbox cannot reach: self-host them with next/font/local'
        : undefined,
  },
  {
    name: 'disk full',
    hint: ({ output }) => (/ENOSPC|No space left on device/.test(output) ? "the sandbox's disk is full: the project or its dependencies are too large" : undefined),
  },
  {
    name: 'file too large',
    hint: ({ output }) => (/EFBIG|File too large/.test(output) ? "a file went past the sandbox's file size limit" : undefined),
  },
  {
    name: 'python syntax',
    hint: ({ output }) => (/^\s*SyntaxError: /m.test(output) && /File "[^"]+", line \d+/.test(output) ? 'the Python code has a syntax error (see the line above)' : undefined),
  },
];

/** The first hint that applies, or undefined. */
export function failureHint(facts: FailureFacts): string | undefined {
  for (const rule of RULES) {
    const hint = rule.hint(facts);
    if (hint) return hint;
  }
  return undefined;
}

/** `@scope/name` or `name`, without a subpath (`lodash/fp` is lodash). */
function bare(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

function formatLimit(bytes: number | undefined): string {
  if (!bytes) return 'unknown';
  const gib = bytes / 1024 ** 3;
  if (gib >= 1 && Number.isInteger(Math.round(gib * 10) / 10)) return `${Math.round(gib * 10) / 10} GiB`;
  if (gib >= 1) return `${gib.toFixed(1)} GiB`;
  return `${Math.round(bytes / 1024 ** 2)} MiB`;
}
