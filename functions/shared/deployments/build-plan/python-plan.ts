/**
 * The plan for a Python project: requirements go into a virtualenv (Debian's pip refuses
 * system-wide installs, PEP 668); the app starts from a Procfile, as a FastAPI app under uvicorn,
 * a Flask app under gunicorn or Flask's server, a Django project, or a plain script.
 */
import { shellQuote } from '../../shell-quote.ts';
import type { PlanStep } from './plan-types.ts';
import { readProcfileWeb, type ProjectFiles } from './project-files.ts';
import {
  findDjangoProject,
  findPythonApp,
  parseRequirement,
  readPyproject,
  readRequirements,
  type PythonApp,
  type PythonFramework,
  type PythonRequirement,
} from './python-project.ts';
import type { RuntimePlan } from './runtime-plan.ts';

const VENV_PYTHON = '.venv/bin/python';
const SCRIPT_ENTRIES = ['app.py', 'main.py', 'server.py', 'run.py'];
const PEP_668 = "into a virtualenv (.venv), because Debian's Python refuses system-wide pip installs (PEP 668)";

interface PythonInstall {
  step?: PlanStep;
  requirements: PythonRequirement[];
  /** Where the requirement names came from, for notes. */
  source?: string;
}

export function planPython(files: ProjectFiles): RuntimePlan {
  const notes: string[] = [];
  const install = detectInstall(files, notes);
  const venv = install.step !== undefined;
  const python = venv ? VENV_PYTHON : 'python3';
  const app = findPythonApp(files);
  const django = findDjangoProject(files);
  const framework = app?.framework ?? (django ? 'django' : frameworkFromRequirements(install.requirements));
  const start = procfileStart(files, venv) ?? appStart(app, install, python, notes) ?? djangoStart(files, install, python, notes) ?? scriptStart(files, python);
  if (!venv) notes.push(install.source ? `${install.source} lists no dependencies: the app runs with the sandbox's python3` : 'no requirements.txt or pyproject.toml: the app runs with the sandbox\'s python3 and its standard library');

  return {
    runtime: 'python',
    framework,
    packageManager: install.step ? { name: 'pip', reason: install.step.reason } : undefined,
    install: install.step,
    installForOtherStart: install.step,
    runtimeForOtherStart: 'python',
    start,
    startNotes: [],
    lookedFor: ['options.startCommand', 'a Procfile web: line', 'a FastAPI or Flask app object (main.py, app.py, ...)', 'a Django manage.py', SCRIPT_ENTRIES.join('/')],
    env: [
      {
        name: 'PYTHONUNBUFFERED',
        value: '1',
        reason: "Python buffers its output when it is not a terminal; unbuffered, the app's log lines appear as they are printed",
        phases: ['start'],
      },
    ],
    notes,
    detectedStartNotes: [],
    envForStart: () => [],
    entryFilesOf: (command) => scriptFilesOf(files, command),
    language: 'python',
  };
}

function detectInstall(files: ProjectFiles, notes: string[]): PythonInstall {
  if (files.has('requirements.txt')) {
    return {
      step: {
        command: `python3 -m venv .venv && .venv/bin/pip install -r requirements.txt`,
        reason: `requirements.txt found: pip installs it ${PEP_668}`,
        source: 'detected',
      },
      requirements: readRequirements(files.text('requirements.txt')),
      source: 'requirements.txt',
    };
  }
  const pyproject = files.has('pyproject.toml') ? readPyproject(files.text('pyproject.toml')) : undefined;
  if (pyproject && !pyproject.hasBuildSystem && pyproject.dependencies) {
    const requirements = pyproject.dependencies.flatMap((spec) => parseRequirement(spec) ?? []);
    if (pyproject.dependencies.length === 0) return { requirements, source: 'pyproject.toml' };
    return {
      step: {
        command: `python3 -m venv .venv && .venv/bin/pip install ${pyproject.dependencies.map(shellQuote).join(' ')}`,
        reason: `pyproject.toml lists [project] dependencies: pip installs them ${PEP_668}; the app itself is not built as a package, since pyproject.toml has no [build-system]`,
        source: 'detected',
      },
      requirements,
      source: 'pyproject.toml',
    };
  }
  const packaged = files.has('pyproject.toml') ? 'pyproject.toml' : files.has('setup.py') ? 'setup.py' : undefined;
  if (packaged) {
    return {
      step: {
        command: 'python3 -m venv .venv && .venv/bin/pip install .',
        reason: `${packaged} found: pip installs the project with its dependencies ${PEP_668}`,
        source: 'detected',
      },
      requirements: (pyproject?.dependencies ?? []).flatMap((spec) => parseRequirement(spec) ?? []),
      source: packaged,
    };
  }
  if (files.has('Pipfile')) {
    notes.push('Pipfile found, but the plan does not run pipenv: add a requirements.txt (e.g. from `pipenv requirements`) to get the dependencies installed');
  }
  return { requirements: [] };
}

function procfileStart(files: ProjectFiles, venv: boolean): PlanStep | undefined {
  const web = readProcfileWeb(files);
  if (!web) return undefined;
  if (!venv) return { command: web, reason: "Procfile's web: line", source: 'detected' };
  return {
    command: `. .venv/bin/activate && ${web}`,
    reason: "Procfile's web: line, run inside the virtualenv so that its tools (gunicorn, uvicorn, ...) are on PATH",
    source: 'detected',
  };
}

function appStart(app: PythonApp | undefined, install: PythonInstall, python: string, notes: string[]): PlanStep | undefined {
  if (!app) return undefined;
  const target = `${app.module}:${app.attribute}`;
  if (app.framework === 'fastapi') {
    if (!hasRequirement(install.requirements, 'uvicorn') && !hasExtra(install.requirements, 'fastapi', ['standard', 'all'])) {
      notes.push(
        install.source
          ? `uvicorn is not in ${install.source}: the start needs it (add uvicorn, or fastapi[standard])`
          : 'no requirements file: fastapi and uvicorn must already be installed in the sandbox',
      );
    }
    const appDir = app.appDir ? ` --app-dir ${app.appDir}` : '';
    return {
      command: `${python} -m uvicorn ${target}${appDir} --host 0.0.0.0 --port $PORT`,
      reason: `FastAPI app \`${app.attribute}\` in ${app.file}: uvicorn serves it on $PORT, on every interface`,
      source: 'detected',
    };
  }
  if (hasRequirement(install.requirements, 'gunicorn')) {
    const chdir = app.appDir ? ` --chdir ${app.appDir}` : '';
    return {
      command: `.venv/bin/gunicorn${chdir} --bind 0.0.0.0:$PORT ${quoteIfNeeded(target)}`,
      reason: `Flask app \`${app.attribute}\` in ${app.file} and gunicorn in ${install.source}: gunicorn serves it on $PORT, on every interface`,
      source: 'detected',
    };
  }
  const flaskTarget = app.appDir ? `${app.appDir}/${app.module.split('.').join('/')}` : app.attribute === 'create_app()' ? app.module : target;
  return {
    command: `${python} -m flask --app ${quoteIfNeeded(flaskTarget)} run --host 0.0.0.0 --port $PORT`,
    reason: `Flask app \`${app.attribute}\` in ${app.file}: Flask's own server serves it on $PORT, on every interface (add gunicorn to the requirements for a production server)`,
    source: 'detected',
  };
}

function djangoStart(files: ProjectFiles, install: PythonInstall, python: string, notes: string[]): PlanStep | undefined {
  const django = findDjangoProject(files);
  if (!django) return undefined;
  const settings = django.settingsFile ? files.text(django.settingsFile) : undefined;
  if (settings !== undefined && /^ALLOWED_HOSTS\s*=\s*\[\s*\]/m.test(settings)) {
    notes.push(`${django.settingsFile} has ALLOWED_HOSTS = []: Django answers 400 to the sandbox's host name; add it (or '.<domain>') to ALLOWED_HOSTS`);
  }
  if (hasRequirement(install.requirements, 'gunicorn')) {
    return {
      command: `.venv/bin/gunicorn --bind 0.0.0.0:$PORT ${django.project}.wsgi`,
      reason: `Django project ${django.project} and gunicorn in ${install.source}: gunicorn serves ${django.project}.wsgi on $PORT, on every interface`,
      source: 'detected',
    };
  }
  return {
    command: `${python} manage.py runserver 0.0.0.0:$PORT`,
    reason: `Django project ${django.project}: Django's development server serves it on $PORT, on every interface (add gunicorn to the requirements for a production server)`,
    source: 'detected',
  };
}

function scriptStart(files: ProjectFiles, python: string): PlanStep | undefined {
  const script = files.firstExisting(SCRIPT_ENTRIES);
  if (!script) return undefined;
  return { command: `${python} ${script}`, reason: `${script} found: run with ${python === 'python3' ? "the sandbox's python3" : 'the virtualenv\'s python'}`, source: 'detected' };
}

/** The .py files a command runs directly (`python3 app.py`, `.venv/bin/python server.py`). */
function scriptFilesOf(files: ProjectFiles, command: string): string[] {
  const found = [...command.matchAll(/(?:^|[\s;&|/])python3?\s+(?:-u\s+)?([^\s;&|-][^\s;&|]*\.py)\b/g)].map((match) => (match[1] as string).replace(/^\.\//, ''));
  return found.filter((path) => files.has(path));
}

function frameworkFromRequirements(requirements: PythonRequirement[]): PythonFramework | undefined {
  return (['fastapi', 'flask', 'django'] as const).find((name) => hasRequirement(requirements, name));
}

function hasRequirement(requirements: PythonRequirement[], name: string): boolean {
  return requirements.some((requirement) => requirement.name === name);
}

function hasExtra(requirements: PythonRequirement[], name: string, extras: string[]): boolean {
  return requirements.some((requirement) => requirement.name === name && requirement.extras.some((extra) => extras.includes(extra)));
}

function quoteIfNeeded(word: string): string {
  return /^[\w.:/-]+$/.test(word) ? word : shellQuote(word);
}
