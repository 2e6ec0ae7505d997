/**
 * The body of `POST /deployments`: defaults, the build plan of a request, the
 * path and size rules, and how issues name the field they apply to.
 */
import { describe, expect, it } from 'vitest';
import { decodedSize, deploymentRequestSchema, pathProblem, type RequestFile } from '../../../functions/shared/deployments/deployment-request.ts';
import { DEFAULT_LIMITS, type DeploymentLimits } from '../../../functions/shared/deployments/deployment-limits.ts';
import { describeIssues } from '../../../functions/shared/validation/field-problems.ts';
import { effectiveOptions, planDeployment } from '../../../functions/shared/deployments/plan-deployment.ts';

const schema = deploymentRequestSchema();

function utf8(path: string, content = ''): RequestFile {
  return { path, content, encoding: 'utf8' };
}

function base64(path: string, bytes: Buffer): RequestFile {
  return { path, content: bytes.toString('base64'), encoding: 'base64' };
}

function packageJson(manifest: unknown): RequestFile {
  return utf8('package.json', JSON.stringify(manifest));
}

/** A valid body; `overrides` replace top-level fields. */
function requestBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { projectId: 'hello', files: [utf8('server.js', 'console.log(1)')], options: { startCommand: 'node server.js' }, ...overrides };
}

/** The problems a body has, as the API reports them. */
function problemsOf(body: unknown, limits?: DeploymentLimits) {
  const result = deploymentRequestSchema(limits).safeParse(body);
  return result.success ? [] : describeIssues(result.error.issues);
}

describe('defaults', () => {
  it('fills healthPath /health, timeoutSeconds 3600 and an empty env, and leaves the port to the plan', () => {
    // Prepare
    const body = requestBody({ options: { startCommand: 'node server.js' } });

    // Act
    const parsed = schema.parse(body);

    // Assert
    expect(parsed.options).toEqual({ startCommand: 'node server.js', healthPath: '/health', timeoutSeconds: 3600, env: {} });
  });

  it('reads a file without an encoding as utf8', () => {
    // Prepare
    const body = requestBody({ files: [{ path: 'server.js', content: 'x' }] });

    // Act
    const parsed = schema.parse(body);

    // Assert
    expect(parsed.files[0]!.encoding).toBe('utf8');
  });

  it('accepts a body without options when package.json has scripts.start, with every default', () => {
    // Prepare
    const body = { projectId: 'hello', files: [packageJson({ scripts: { start: 'node server.js' } })] };

    // Act
    const parsed = schema.parse(body);

    // Assert
    expect(parsed.options).toEqual({ healthPath: '/health', timeoutSeconds: 3600, env: {} });
  });

  it('keeps values the caller gives instead of the defaults', () => {
    // Prepare
    const options = { startCommand: 'node server.js', port: 8080, healthPath: '/ready', timeoutSeconds: 600, env: { MODE: 'test' } };

    // Act
    const parsed = schema.parse(requestBody({ options }));

    // Assert
    expect(parsed.options).toEqual(options);
  });
});

describe('planDeployment', () => {
  it('plans `npm start` when the root package.json defines scripts.start', () => {
    const request = schema.parse(requestBody({ files: [utf8('index.js'), packageJson({ scripts: { start: 'node index.js' } })], options: {} }));

    const plan = planDeployment(request);

    expect(plan.start).toMatchObject({ command: 'npm start', source: 'detected' });
  });

  it('reads a base64-encoded package.json', () => {
    const files = [base64('package.json', Buffer.from(JSON.stringify({ scripts: { start: 'node index.js' } })))];

    const plan = planDeployment(schema.parse(requestBody({ files, options: {} })));

    expect(plan.start.command).toBe('npm start');
  });

  it("lets the caller's options replace their parts of the plan", () => {
    const request = schema.parse(requestBody({ options: { startCommand: 'node server.js', installCommand: 'npm ci', buildCommand: 'make', port: 8080 } }));

    const plan = planDeployment(request);

    expect([plan.install?.command, plan.build?.command, plan.start.command, plan.port.value]).toEqual(['npm ci', 'make', 'node server.js', 8080]);
    expect(plan.start.reason).toBe('given as options.startCommand');
  });

  it('allows the sandbox domain for host checks, without the port the domain may carry', () => {
    const files = [packageJson({ scripts: { build: 'vite build' }, devDependencies: { vite: '^7.0.0' } }), utf8('package-lock.json', '{}'), utf8('index.html', '<p>x</p>')];

    const plan = planDeployment(schema.parse(requestBody({ files, options: {} })), { domain: 'agentsphere.localhost:4590' });

    expect(plan.env).toContainEqual(expect.objectContaining({ name: '__VITE_ADDITIONAL_SERVER_ALLOWED_HOSTS', value: '.agentsphere.localhost' }));
  });

  it('fills the effective options from the plan', () => {
    const request = schema.parse(requestBody({ files: [packageJson({ scripts: { start: 'node .' } })], options: {} }));

    const options = effectiveOptions(request, planDeployment(request));

    expect(options).toEqual({ port: 3000, startCommand: 'npm start', healthPath: '/health', timeoutSeconds: 3600 });
  });

  it('refuses a project it cannot tell how to start, naming options.startCommand', () => {
    const request = schema.parse(requestBody({ files: [utf8('notes.txt', 'hi')], options: {} }));

    expect(() => planDeployment(request)).toThrow(expect.objectContaining({ name: 'PlanError', field: 'options.startCommand' }));
  });
});

describe('pathProblem', () => {
  it.each([
    ['a\0b', 'must not contain NUL'],
    ['a\nb', 'must not contain control characters'],
    ['a\u007fb', 'must not contain control characters'],
    ['src\\index.js', 'must use / as separator'],
    ['/etc/passwd', 'must be relative'],
    ['../outside.js', 'must not contain ".."'],
    ['src/../../outside.js', 'must not contain ".."'],
    ['./index.js', 'must be normalized (no "." segments, empty segments or trailing /)'],
    ['src/./index.js', 'must be normalized (no "." segments, empty segments or trailing /)'],
    ['src//index.js', 'must be normalized (no "." segments, empty segments or trailing /)'],
    ['src/', 'must be normalized (no "." segments, empty segments or trailing /)'],
    [`${'a'.repeat(256)}/index.js`, 'must have segments of at most 255 bytes'],
    [`${'é'.repeat(128)}.js`, 'must have segments of at most 255 bytes'],
  ])('rejects %j: %s', (path, expected) => {
    // Prepare: the path comes from the table

    // Act
    const problem = pathProblem(path);

    // Assert
    expect(problem).toBe(expected);
  });

  it.each(['index.js', 'src/lib/util.js', '.env', 'a/.hidden/b', 'a..b/c...d', `${'a'.repeat(255)}/x`])('accepts %j', (path) => {
    // Prepare: the path comes from the table

    // Act
    const problem = pathProblem(path);

    // Assert
    expect(problem).toBeUndefined();
  });

  // posix.normalize('.') === '.', which a segment rule alone would let through.
  it('rejects the bare "." path (the app directory itself)', () => {
    // Prepare
    const path = '.';

    // Act
    const problem = pathProblem(path);

    // Assert
    expect(problem).toBe('must name a file, not the app directory');
  });

  it('reports a bad path as files[i].path of the request', () => {
    // Prepare
    const files = [utf8('a.js'), utf8('b.js'), utf8('c.js'), utf8('../escape.js')];

    // Act
    const problems = problemsOf(requestBody({ files }));

    // Assert
    expect(problems).toEqual([{ field: 'files[3].path', rule: 'must not contain ".."', message: 'files[3].path must not contain ".."' }]);
  });

  it('reports a path given twice on the later file', () => {
    // Prepare
    const files = [utf8('a.js'), utf8('b.js'), utf8('a.js')];

    // Act
    const problems = problemsOf(requestBody({ files }));

    // Assert
    expect(problems).toEqual([{ field: 'files[2].path', rule: 'duplicates an earlier file', message: 'files[2].path duplicates an earlier file' }]);
  });
});

describe('decodedSize', () => {
  it.each([
    ['no padding', Buffer.from('abc')],
    ['one = of padding', Buffer.from('ab')],
    ['two = of padding', Buffer.from('a')],
    ['binary bytes', Buffer.from([0, 255, 128, 1, 2])],
    ['nothing', Buffer.alloc(0)],
  ])('counts decoded bytes of base64 with %s', (_case, bytes) => {
    // Prepare
    const file = base64('f.bin', bytes);

    // Act
    const size = decodedSize(file);

    // Assert
    expect(size).toBe(bytes.length);
  });

  it('counts utf8 content in bytes, not characters', () => {
    // Prepare
    const file = utf8('f.txt', 'héllo €');

    // Act
    const size = decodedSize(file);

    // Assert
    expect(size).toBe(Buffer.byteLength('héllo €'));
    expect(size).toBe(10);
  });
});

describe('size limits', () => {
  const small: DeploymentLimits = { ...DEFAULT_LIMITS, maxFileBytes: 8, maxTotalBytes: 10 };

  it('accepts files that total exactly the limit', () => {
    // Prepare
    const files = [utf8('a.txt', '12345'), utf8('b.txt', '12345')];

    // Act
    const problems = problemsOf(requestBody({ files }), small);

    // Assert
    expect(problems).toEqual([]);
  });

  it('refuses files that together exceed the total limit, on the files field', () => {
    // Prepare
    const files = [utf8('a.txt', '123456'), utf8('b.txt', '123456')];

    // Act
    const problems = problemsOf(requestBody({ files }), small);

    // Assert
    expect(problems).toEqual([{ field: 'files', rule: 'must total at most 10 bytes (is 12)', message: 'files must total at most 10 bytes (is 12)' }]);
  });

  it('counts base64 files by their decoded size, not their encoded length', () => {
    // Prepare: 6 + 4 decoded bytes fit 10 even though the encoded text is 16 characters
    const files = [base64('a.bin', Buffer.alloc(6, 1)), base64('b.bin', Buffer.alloc(4, 2))];

    // Act
    const problems = problemsOf(requestBody({ files }), small);

    // Assert
    expect(files.map((file) => file.content.length).reduce((a, b) => a + b)).toBeGreaterThan(10);
    expect(problems).toEqual([]);
  });

  it('refuses a single file over the per-file limit on its content field', () => {
    // Prepare
    const files = [utf8('a.txt', '123456789')];

    // Act
    const problems = problemsOf(requestBody({ files }), small);

    // Assert
    expect(problems).toEqual([{ field: 'files[0].content', rule: 'must be at most 8 bytes (is 9)', message: 'files[0].content must be at most 8 bytes (is 9)' }]);
  });

  it('refuses base64 content that is not valid base64', () => {
    // Prepare
    const files = [{ path: 'a.bin', content: 'not base64!', encoding: 'base64' }];

    // Act
    const problems = problemsOf(requestBody({ files }));

    // Assert
    expect(problems).toEqual([{ field: 'files[0].content', rule: 'is not valid base64', message: 'files[0].content is not valid base64' }]);
  });
});

describe('describeIssues', () => {
  it('names an env value by its variable: options.env.X', () => {
    // Prepare
    const body = requestBody({ options: { startCommand: 'node server.js', env: { API_TOKEN: 'a\0b' } } });

    // Act
    const problems = problemsOf(body);

    // Assert
    expect(problems).toEqual([{ field: 'options.env.API_TOKEN', rule: 'must not contain NUL', message: 'options.env.API_TOKEN must not contain NUL' }]);
  });

  it("reports an invalid env name with the key rule's own message", () => {
    // Prepare
    const body = requestBody({ options: { startCommand: 'node server.js', env: { '1BAD': 'x' } } });

    // Act
    const problems = problemsOf(body);

    // Assert
    expect(problems).toEqual([
      {
        field: 'options.env.1BAD',
        rule: 'env names must match [A-Za-z_][A-Za-z0-9_]*',
        message: 'options.env.1BAD env names must match [A-Za-z_][A-Za-z0-9_]*',
      },
    ]);
  });

  it('reports unknown top-level fields on the body', () => {
    // Prepare
    const body = requestBody({ extra: true, another: 1 });

    // Act
    const problems = problemsOf(body);

    // Assert
    expect(problems).toEqual([{ field: '(body)', rule: 'unknown field', message: 'body has unknown field(s): extra, another' }]);
  });

  it('reports unknown fields inside options on options', () => {
    // Prepare
    const body = requestBody({ options: { startCommand: 'node server.js', cmd: 'x' } });

    // Act
    const problems = problemsOf(body);

    // Assert
    expect(problems).toEqual([{ field: 'options', rule: 'unknown field', message: 'options has unknown field(s): cmd' }]);
  });

  it('reports unknown fields of a file on files[i]', () => {
    // Prepare
    const body = requestBody({ files: [utf8('a.js'), { ...utf8('b.js'), mode: 493 }] });

    // Act
    const problems = problemsOf(body);

    // Assert
    expect(problems).toEqual([{ field: 'files[1]', rule: 'unknown field', message: 'files[1] has unknown field(s): mode' }]);
  });

  it('names a nested option rule by its dotted path', () => {
    // Prepare
    const body = requestBody({ options: { startCommand: 'node server.js', port: 49983 } });

    // Act
    const problems = problemsOf(body);

    // Assert
    expect(problems).toEqual([{ field: 'options.port', rule: "is reserved (it is the sandbox daemon's port)", message: "options.port is reserved (it is the sandbox daemon's port)" }]);
  });
});
