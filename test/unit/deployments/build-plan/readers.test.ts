/** The small readers the plan is built on: commands, lockfile headers, requirements and pyproject.toml. */
import { describe, expect, it } from 'vitest';
import { nodeEntryFiles, portNamedIn, scriptInvoked } from '../../../../functions/shared/deployments/build-plan/command-text.ts';
import { readPnpmLockfileVersion, readYarnLockfile } from '../../../../functions/shared/deployments/build-plan/lockfiles.ts';
import { parsePackageManagerField } from '../../../../functions/shared/deployments/build-plan/package-manager.ts';
import { readPyproject, readRequirements } from '../../../../functions/shared/deployments/build-plan/python-project.ts';
import { berryLock, pnpmLock, YARN_CLASSIC_LOCK } from './project.ts';

describe('commands', () => {
  it.each([
    ['npm start', 'start'],
    ['npm run start:prod', 'start:prod'],
    ['npx --yes pnpm@9 run build', 'build'],
    ['npx --yes @yarnpkg/cli-dist@4.5.0 run start', 'start'],
    ['yarn start', 'start'],
    ['node server.js', undefined],
  ])('reads the script that %s runs', (command, script) => {
    expect(scriptInvoked(command)).toBe(script);
  });

  it.each([
    ['node ./bin/www', ['bin/www']],
    ['node dist/main', ['dist/main']],
    ['node --watch server.js', ['server.js']],
    ['node -r dotenv/config server.js', ['server.js']],
    ['node --max-old-space-size=4096 build/index.js', ['build/index.js']],
    ['tsx watch src/index.ts', ['src/index.ts']],
    ['NODE_ENV=production node server.js && echo done', ['server.js']],
    ['vite build', []],
  ])('reads the file that %s runs', (command, files) => {
    expect(nodeEntryFiles(command)).toEqual(files);
  });

  it.each([
    ['next start -p 3001', 3001],
    ['vite --port=4000', 4000],
    ['PORT=8080 node server.js', 8080],
    ['gunicorn -b 0.0.0.0:8000 app:app', 8000],
    ['python manage.py runserver 0.0.0.0:8000', 8000],
    ['next start --port $PORT', undefined],
  ])('reads the port that %s names', (command, port) => {
    expect(portNamedIn(command)).toBe(port);
  });

  it('reads packageManager without its hash', () => {
    expect(parsePackageManagerField('pnpm@9.12.0+sha512.4abf')).toEqual({ name: 'pnpm', version: '9.12.0' });
  });
});

describe('lockfiles', () => {
  it('tells a Yarn 1 lockfile by its header', () => {
    expect(readYarnLockfile(YARN_CLASSIC_LOCK)).toEqual({ flavour: 'classic' });
  });

  it("reads a Berry lockfile's __metadata version and checksum style", () => {
    expect(readYarnLockfile(berryLock(8, false))).toEqual({ flavour: 'berry', metadataVersion: 8, cacheKeyChecksums: false });
  });

  it("reads pnpm's lockfileVersion, quoted or not", () => {
    expect(readPnpmLockfileVersion(pnpmLock('9.0'))).toBe('9.0');
    expect(readPnpmLockfileVersion('lockfileVersion: 5.4\n')).toBe('5.4');
  });
});

describe('Python projects', () => {
  it('reads requirement names, normalised, with extras, skipping options, URLs and comments', () => {
    const text = '# web\n-r base.txt\n--index-url https://example.org\nFlask==3.1.0  # server\nuvicorn[standard]>=0.30\nPyYAML\ngit+https://x/y.git#egg=z\n';

    expect(readRequirements(text)).toEqual([
      { name: 'flask', extras: [] },
      { name: 'uvicorn', extras: ['standard'] },
      { name: 'pyyaml', extras: [] },
    ]);
  });

  it('reads [project] dependencies, with brackets inside the strings', () => {
    const text = '[project]\nname = "x"\ndependencies = [\n  "fastapi[standard]>=0.115",\n  \'httpx\',\n]\n[tool.uv]\ndev-dependencies = ["pytest"]\n';

    expect(readPyproject(text)).toEqual({ hasBuildSystem: false, dependencies: ['fastapi[standard]>=0.115', 'httpx'] });
  });
});
