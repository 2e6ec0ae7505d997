/**
 * planBuild for Python projects: a virtualenv for the requirements (PEP 668), then a Procfile,
 * FastAPI under uvicorn, Flask under gunicorn or its own server, Django, or a plain script.
 */
import { describe, expect, it } from 'vitest';
import { planBuild } from '../../../../functions/shared/deployments/build-plan/build-plan.ts';
import { envOf, project } from './project.ts';

const FASTAPI_MAIN = 'from fastapi import FastAPI\n\napp = FastAPI()\n\n@app.get("/")\ndef root():\n    return {"ok": True}\n';
const FLASK_APP = 'from flask import Flask\n\napp = Flask(__name__)\n\n@app.route("/")\ndef index():\n    return "hi"\n';

describe('the install', () => {
  it('installs requirements.txt into a virtualenv, because Debian refuses system-wide pip installs', () => {
    // Prepare
    const files = project({ 'requirements.txt': 'flask==3.1.0\n', 'app.py': FLASK_APP });

    // Act
    const plan = planBuild(files);

    // Assert
    expect(plan.install).toEqual({
      command: 'python3 -m venv .venv && .venv/bin/pip install -r requirements.txt',
      reason: "requirements.txt found: pip installs it into a virtualenv (.venv), because Debian's Python refuses system-wide pip installs (PEP 668)",
      source: 'detected',
    });
    expect(plan.packageManager).toEqual({ name: 'pip', reason: plan.install?.reason });
    expect(plan.runtime).toBe('python');
  });

  it('installs a packaged pyproject.toml project with pip install .', () => {
    const files = project({
      'pyproject.toml': '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n[project]\nname = "svc"\ndependencies = ["fastapi"]\n',
      'main.py': FASTAPI_MAIN,
    });

    const plan = planBuild(files);

    expect(plan.install).toEqual({
      command: 'python3 -m venv .venv && .venv/bin/pip install .',
      reason: "pyproject.toml found: pip installs the project with its dependencies into a virtualenv (.venv), because Debian's Python refuses system-wide pip installs (PEP 668)",
      source: 'detected',
    });
  });

  it("installs only the [project] dependencies of a pyproject.toml app that has no [build-system]", () => {
    const files = project({
      'pyproject.toml': '[project]\nname = "svc"\nrequires-python = ">=3.11"\ndependencies = [\n    "fastapi[standard]>=0.115",\n    "httpx",\n]\n\n[dependency-groups]\ndev = ["pytest"]\n',
      'main.py': FASTAPI_MAIN,
    });

    const plan = planBuild(files);

    expect(plan.install).toEqual({
      command: "python3 -m venv .venv && .venv/bin/pip install 'fastapi[standard]>=0.115' 'httpx'",
      reason:
        "pyproject.toml lists [project] dependencies: pip installs them into a virtualenv (.venv), because Debian's Python refuses system-wide pip installs (PEP 668); the app itself is not built as a package, since pyproject.toml has no [build-system]",
      source: 'detected',
    });
  });

  it('installs a setup.py project with pip install .', () => {
    const files = project({ 'setup.py': 'from setuptools import setup\nsetup(name="svc")\n', 'app.py': '' });

    const plan = planBuild(files);

    expect(plan.install?.command).toBe('python3 -m venv .venv && .venv/bin/pip install .');
    expect(plan.install?.reason).toContain('setup.py found');
  });

  it('runs a Python app without requirements with the plain python3, without a virtualenv', () => {
    const files = project({ 'app.py': 'import http.server\n' });

    const plan = planBuild(files);

    expect(plan.install).toBeUndefined();
    expect(plan.start).toEqual({ command: 'python3 app.py', reason: "app.py found: run with the sandbox's python3", source: 'detected' });
    expect(plan.notes).toContain("no requirements.txt or pyproject.toml: the app runs with the sandbox's python3 and its standard library");
  });

  it('says that a Pipfile is not installed', () => {
    const files = project({ Pipfile: '[packages]\nflask = "*"\n', 'app.py': '' });

    const plan = planBuild(files);

    expect(plan.install).toBeUndefined();
    expect(plan.notes).toContain('Pipfile found, but the plan does not run pipenv: add a requirements.txt (e.g. from `pipenv requirements`) to get the dependencies installed');
  });
});

describe('the start', () => {
  it("runs a Procfile's web: line inside the virtualenv", () => {
    const files = project({ 'requirements.txt': 'gunicorn\nflask\n', Procfile: 'web: gunicorn app:app --bind 0.0.0.0:$PORT\n', 'app.py': FLASK_APP });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: '. .venv/bin/activate && gunicorn app:app --bind 0.0.0.0:$PORT',
      reason: "Procfile's web: line, run inside the virtualenv so that its tools (gunicorn, uvicorn, ...) are on PATH",
      source: 'detected',
    });
  });

  it("runs a Procfile's web: line as written when there is no virtualenv", () => {
    const files = project({ Procfile: 'web: python3 server.py\n', 'server.py': '' });

    const plan = planBuild(files);

    expect(plan.start).toEqual({ command: 'python3 server.py', reason: "Procfile's web: line", source: 'detected' });
  });

  it('serves a FastAPI app with uvicorn on $PORT, from the module and variable it finds', () => {
    const files = project({ 'requirements.txt': 'fastapi\nuvicorn\n', 'main.py': FASTAPI_MAIN });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: '.venv/bin/python -m uvicorn main:app --host 0.0.0.0 --port $PORT',
      reason: 'FastAPI app `app` in main.py: uvicorn serves it on $PORT, on every interface',
      source: 'detected',
    });
    expect(plan.framework).toBe('fastapi');
  });

  it('finds a FastAPI app in a package module and under another name', () => {
    const files = project({ 'requirements.txt': 'fastapi[standard]\n', 'app/__init__.py': '', 'app/main.py': 'import fastapi\napi: fastapi.FastAPI = fastapi.FastAPI(title="x")\n' });

    const plan = planBuild(files);

    expect(plan.start.command).toBe('.venv/bin/python -m uvicorn app.main:api --host 0.0.0.0 --port $PORT');
    expect(plan.notes.some((note) => note.includes('uvicorn is not'))).toBe(false);
  });

  it('runs a FastAPI app under src/ with --app-dir src', () => {
    const files = project({ 'requirements.txt': 'fastapi\nuvicorn\n', 'src/main.py': FASTAPI_MAIN });

    const plan = planBuild(files);

    expect(plan.start.command).toBe('.venv/bin/python -m uvicorn main:app --app-dir src --host 0.0.0.0 --port $PORT');
  });

  it('notes a FastAPI app whose requirements lack uvicorn', () => {
    const files = project({ 'requirements.txt': 'fastapi==0.115.0\n', 'main.py': FASTAPI_MAIN });

    const plan = planBuild(files);

    expect(plan.notes).toContain('uvicorn is not in requirements.txt: the start needs it (add uvicorn, or fastapi[standard])');
  });

  it('serves a Flask app with gunicorn when gunicorn is a requirement', () => {
    const files = project({ 'requirements.txt': 'Flask==3.1.0\ngunicorn==23.0.0\n', 'app.py': FLASK_APP });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: '.venv/bin/gunicorn --bind 0.0.0.0:$PORT app:app',
      reason: 'Flask app `app` in app.py and gunicorn in requirements.txt: gunicorn serves it on $PORT, on every interface',
      source: 'detected',
    });
    expect(plan.framework).toBe('flask');
  });

  it("serves a Flask app with Flask's own server when gunicorn is not a requirement", () => {
    const files = project({ 'requirements.txt': 'flask\n', 'app.py': FLASK_APP });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: '.venv/bin/python -m flask --app app:app run --host 0.0.0.0 --port $PORT',
      reason: "Flask app `app` in app.py: Flask's own server serves it on $PORT, on every interface (add gunicorn to the requirements for a production server)",
      source: 'detected',
    });
  });

  it('serves a Flask app factory with gunicorn, quoting the call', () => {
    const files = project({
      'requirements.txt': 'flask\ngunicorn\n',
      'app/__init__.py': 'from flask import Flask\n\ndef create_app():\n    return Flask(__name__)\n',
    });

    const plan = planBuild(files);

    expect(plan.start.command).toBe(".venv/bin/gunicorn --bind 0.0.0.0:$PORT 'app:create_app()'");
  });

  it('serves a Django project with gunicorn when it is a requirement', () => {
    const files = project({ 'requirements.txt': 'django\ngunicorn\n', 'manage.py': '', 'mysite/wsgi.py': '', 'mysite/settings.py': "ALLOWED_HOSTS = ['*']\n" });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: '.venv/bin/gunicorn --bind 0.0.0.0:$PORT mysite.wsgi',
      reason: 'Django project mysite and gunicorn in requirements.txt: gunicorn serves mysite.wsgi on $PORT, on every interface',
      source: 'detected',
    });
    expect(plan.framework).toBe('django');
  });

  it("serves a Django project with runserver otherwise, and notes an empty ALLOWED_HOSTS", () => {
    const files = project({ 'requirements.txt': 'django\n', 'manage.py': '', 'mysite/wsgi.py': '', 'mysite/settings.py': 'DEBUG = False\nALLOWED_HOSTS = []\n' });

    const plan = planBuild(files);

    expect(plan.start).toEqual({
      command: '.venv/bin/python manage.py runserver 0.0.0.0:$PORT',
      reason: "Django project mysite: Django's development server serves it on $PORT, on every interface (add gunicorn to the requirements for a production server)",
      source: 'detected',
    });
    expect(plan.notes).toContain("mysite/settings.py has ALLOWED_HOSTS = []: Django answers 400 to the sandbox's host name; add it (or '.<domain>') to ALLOWED_HOSTS");
  });

  it("runs main.py with the virtualenv's python when the app is no known framework", () => {
    const files = project({ 'requirements.txt': 'requests\n', 'main.py': 'print("hi")\n' });

    const plan = planBuild(files);

    expect(plan.start).toEqual({ command: '.venv/bin/python main.py', reason: "main.py found: run with the virtualenv's python", source: 'detected' });
  });

  it('sets PYTHONUNBUFFERED for the start, so log lines appear as they are printed', () => {
    const files = project({ 'app.py': '' });

    const plan = planBuild(files);

    expect(envOf(plan, 'PYTHONUNBUFFERED')).toEqual({
      name: 'PYTHONUNBUFFERED',
      value: '1',
      reason: "Python buffers its output when it is not a terminal; unbuffered, the app's log lines appear as they are printed",
      phases: ['start'],
    });
  });
});

describe('Python beside package.json', () => {
  it('takes a project with requirements.txt and a package.json without start script for a Python app', () => {
    const files = project({ 'package.json': { devDependencies: { tailwindcss: '4.0.0' } }, 'requirements.txt': 'flask\n', 'app.py': FLASK_APP });

    const plan = planBuild(files);

    expect(plan.runtime).toBe('python');
    expect(plan.notes).toContain('both package.json and requirements.txt found: taken as a Python app, since package.json has no start script');
  });

  it('takes a project whose package.json has a start script for a Node app', () => {
    const files = project({ 'package.json': { scripts: { start: 'node server.js' } }, 'requirements.txt': 'flask\n' });

    const plan = planBuild(files);

    expect(plan.runtime).toBe('node');
    expect(plan.notes).toContain('requirements.txt found beside package.json: taken as a Node app, since package.json has a start script');
  });
});
