/**
 * Reading a Python project: its requirements (requirements.txt, pyproject.toml), and where its
 * FastAPI, Flask or Django app object lives.
 */
import type { ProjectFiles } from './project-files.ts';

export interface PythonRequirement {
  /** Normalised as PyPI does: lower case, runs of `-_.` as one `-`. */
  name: string;
  extras: string[];
}

export interface Pyproject {
  hasBuildSystem: boolean;
  /** `[project] dependencies`, as written; undefined when the table has none. */
  dependencies?: string[];
}

/** Top-level names of a requirements file (options, includes, URLs, paths and comments skipped). */
export function readRequirements(text: string | undefined): PythonRequirement[] {
  if (text === undefined) return [];
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line && !line.startsWith('-') && !/:\/\/|^[./~]/.test(line))
    .flatMap((line) => parseRequirement(line) ?? []);
}

export function parseRequirement(spec: string): PythonRequirement | undefined {
  const match = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?/.exec(spec.trim());
  if (!match?.[1]) return undefined;
  return {
    name: match[1].toLowerCase().replace(/[-_.]+/g, '-'),
    extras: (match[2] ?? '').split(',').map((extra) => extra.trim().toLowerCase()).filter(Boolean),
  };
}

/** The parts of pyproject.toml the plan needs; a small reader, not a TOML parser. */
export function readPyproject(text: string | undefined): Pyproject | undefined {
  if (text === undefined) return undefined;
  const hasBuildSystem = /^\[build-system\]\s*$/m.test(text);
  const project = tableBody(text, 'project');
  if (project === undefined) return { hasBuildSystem };
  const start = /^dependencies\s*=\s*\[/m.exec(project);
  if (!start) return { hasBuildSystem };
  return { hasBuildSystem, dependencies: tomlStringArray(project.slice(start.index + start[0].length)) };
}

function tableBody(text: string, table: string): string | undefined {
  const header = new RegExp(`^\\[${table.replace('.', '\\.')}\\]\\s*$`, 'm').exec(text);
  if (!header) return undefined;
  const rest = text.slice(header.index + header[0].length);
  const next = /^\[/m.exec(rest);
  return next ? rest.slice(0, next.index) : rest;
}

/** The strings of a TOML array whose opening bracket was just read; `]` inside a string does not end it. */
function tomlStringArray(text: string): string[] {
  const values: string[] = [];
  let quote: string | undefined;
  let current = '';
  for (const character of text) {
    if (quote) {
      if (character === quote) {
        values.push(current);
        current = '';
        quote = undefined;
      } else current += character;
    } else if (character === '"' || character === "'") quote = character;
    else if (character === ']') break;
  }
  return values;
}

export type PythonFramework = 'fastapi' | 'flask' | 'django';

export interface PythonApp {
  framework: 'fastapi' | 'flask';
  file: string;
  /** Import path from the folder it runs in, e.g. 'main' or 'app.main'. */
  module: string;
  /** The app object, e.g. 'app', or 'create_app()' for a Flask factory. */
  attribute: string;
  /** Set for an app under src/: the folder to run from. */
  appDir?: string;
}

/** Files where apps usually live, most likely first; other root-level .py files follow. */
const APP_FILES = ['main.py', 'app.py', 'server.py', 'api.py', 'asgi.py', 'wsgi.py', 'application.py', 'app/main.py', 'app/__init__.py', 'app/app.py', 'src/main.py', 'src/app.py'];

export function pythonAppFiles(files: ProjectFiles): string[] {
  const rootFiles = files.paths.filter((path) => /^[^/]+\.py$/.test(path)).sort();
  return [...new Set([...APP_FILES.filter((path) => files.has(path)), ...rootFiles])];
}

const FASTAPI_APP = /^(\w+)\s*(?::\s*[\w.]+\s*)?=\s*(?:fastapi\.)?FastAPI\s*\(/m;
const FLASK_APP = /^(\w+)\s*(?::\s*[\w.]+\s*)?=\s*(?:flask\.)?Flask\s*\(/m;
const FLASK_FACTORY = /^def\s+create_app\s*\(/m;

/** The first FastAPI or Flask app object found in the usual app files. */
export function findPythonApp(files: ProjectFiles): PythonApp | undefined {
  for (const file of pythonAppFiles(files)) {
    const text = files.text(file);
    if (!text) continue;
    const location = moduleOf(file);
    const fastapi = FASTAPI_APP.exec(text)?.[1];
    if (fastapi) return { framework: 'fastapi', file, ...location, attribute: fastapi };
    const flask = FLASK_APP.exec(text)?.[1];
    if (flask) return { framework: 'flask', file, ...location, attribute: flask };
    if (/\bfrom\s+flask\s+import\b|\bimport\s+flask\b/.test(text) && FLASK_FACTORY.test(text)) {
      return { framework: 'flask', file, ...location, attribute: 'create_app()' };
    }
  }
  return undefined;
}

function moduleOf(file: string): { module: string; appDir?: string } {
  const inSrc = file.startsWith('src/');
  const path = (inSrc ? file.slice('src/'.length) : file).replace(/\.py$/, '').replace(/\/__init__$/, '');
  return { module: path.split('/').join('.'), appDir: inSrc ? 'src' : undefined };
}

export interface DjangoProject {
  /** The settings package, e.g. 'mysite' for mysite/wsgi.py. */
  project: string;
  settingsFile?: string;
}

export function findDjangoProject(files: ProjectFiles): DjangoProject | undefined {
  if (!files.has('manage.py')) return undefined;
  const wsgi = files.paths.find((path) => /^[^/]+\/wsgi\.py$/.test(path));
  if (!wsgi) return undefined;
  const project = wsgi.slice(0, -'/wsgi.py'.length);
  return { project, settingsFile: files.firstExisting([`${project}/settings.py`]) };
}
