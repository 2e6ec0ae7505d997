/**
 * The body of `POST /deployments`, validated before anything is created. Every rule names the
 * field it applies to, so a caller gets a 4xx that says exactly what to fix.
 */
import { posix } from 'node:path';
import * as z from 'zod';
import { appPortProblem } from './app-port.ts';
import { healthPathProblem } from './health-path.ts';
import { DEFAULT_LIMITS, type DeploymentLimits } from './deployment-limits.ts';
import { projectIdSchema } from './project-id.ts';
import { callbackUrlProblem, DEFAULT_CALLBACK_URL_POLICY, type CallbackUrlPolicy } from '../webhooks/callback-url.ts';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/**
 * `options` of a deployment request (inline or manifest): how the app is installed, started and
 * reached. `callbackUrls`: which webhook targets a request may name (loopback only where configured).
 */
export function appOptionsSchema(
  limits: Pick<DeploymentLimits, 'maxEnvVars' | 'maxEnvValueBytes' | 'minTimeoutSeconds' | 'maxTimeoutSeconds'> = DEFAULT_LIMITS,
  callbackUrls: CallbackUrlPolicy = DEFAULT_CALLBACK_URL_POLICY,
) {
  const command = z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(2_048, 'must be at most 2048 characters')
    .refine((value) => !value.includes('\0'), 'must not contain NUL');
  return z.strictObject({
    // No default: without it, the build plan finds the port (a hard-coded one, a tool's own) or uses 3000.
    port: z
      .number()
      .superRefine((port, context) => {
        const problem = appPortProblem(port);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
    installCommand: command.optional(),
    buildCommand: command.optional(),
    startCommand: command.optional(),
    env: z
      .record(
        z.string().regex(ENV_NAME, 'env names must match [A-Za-z_][A-Za-z0-9_]*').max(128, 'env names must be at most 128 characters'),
        z
          .string()
          .refine((value) => !value.includes('\0'), 'must not contain NUL')
          .refine((value) => Buffer.byteLength(value) <= limits.maxEnvValueBytes, `must be at most ${limits.maxEnvValueBytes} bytes`),
      )
      .refine((env) => Object.keys(env).length <= limits.maxEnvVars, `must have at most ${limits.maxEnvVars} variables`)
      .default({}),
    healthPath: z
      .string()
      .superRefine((path, context) => {
        const problem = healthPathProblem(path);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      })
      .default('/health'),
    timeoutSeconds: z
      .number()
      .int('must be an integer')
      .min(limits.minTimeoutSeconds, `must be between ${limits.minTimeoutSeconds} and ${limits.maxTimeoutSeconds}`)
      .max(limits.maxTimeoutSeconds, `must be between ${limits.minTimeoutSeconds} and ${limits.maxTimeoutSeconds}`)
      .default(3600),
    /** Each status change is POSTed here, signed with the caller's webhook secret. */
    callbackUrl: z
      .string()
      .superRefine((url, context) => {
        const problem = callbackUrlProblem(url, callbackUrls);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      })
      .describe('https URL, no userinfo, not a loopback, link-local, private or metadata address: each status change is POSTed to it, signed')
      .optional(),
  });
}

/** Redeploy into this live sandbox of the caller's. */
export const sandboxIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,128}$/, 'must be a sandbox id');

/** `callbackUrls`: which webhook targets a request may name (loopback only where configured). */
export function deploymentRequestSchema(limits: DeploymentLimits = DEFAULT_LIMITS, callbackUrls: CallbackUrlPolicy = DEFAULT_CALLBACK_URL_POLICY) {
  const file = z.strictObject({
    path: z.string().min(1, 'must not be empty').max(limits.maxPathLength, `must be at most ${limits.maxPathLength} characters`),
    content: z.string(),
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
  });
  const options = appOptionsSchema(limits, callbackUrls);
  return z
    .strictObject({
      projectId: projectIdSchema,
      files: z.array(file).min(1, 'must contain at least one file').max(limits.maxFiles, `must contain at most ${limits.maxFiles} files`),
      options: options.default(() => options.parse({})),
      /** Redeploy into this live sandbox of the caller's. */
      sandboxId: sandboxIdSchema.optional(),
      /** Redeploy into the caller's live sandbox for the project, if there is one. */
      reuse: z.boolean().optional(),
    })
    .superRefine((request, context) => {
      if (request.sandboxId && request.reuse !== undefined) {
        context.addIssue({ code: 'custom', path: ['reuse'], message: 'cannot be combined with sandboxId' });
      }
      checkFiles(request.files, limits, context);
    });
}

export type DeploymentRequest = z.output<ReturnType<typeof deploymentRequestSchema>>;
export type RequestFile = DeploymentRequest['files'][number];

function checkFiles(files: RequestFile[], limits: DeploymentLimits, context: z.RefinementCtx): void {
  const seen = new Set<string>();
  let total = 0;
  files.forEach((file, index) => {
    const problem = pathProblem(file.path);
    if (problem) context.addIssue({ code: 'custom', path: ['files', index, 'path'], message: problem });
    if (seen.has(file.path)) context.addIssue({ code: 'custom', path: ['files', index, 'path'], message: 'duplicates an earlier file' });
    seen.add(file.path);
    if (file.encoding === 'base64' && !BASE64.test(file.content)) {
      context.addIssue({ code: 'custom', path: ['files', index, 'content'], message: 'is not valid base64' });
      return;
    }
    const size = decodedSize(file);
    total += size;
    if (size > limits.maxFileBytes) {
      context.addIssue({ code: 'custom', path: ['files', index, 'content'], message: `must be at most ${limits.maxFileBytes} bytes (is ${size})` });
    }
  });
  if (total > limits.maxTotalBytes) {
    context.addIssue({ code: 'custom', path: ['files'], message: `must total at most ${limits.maxTotalBytes} bytes (is ${total})` });
  }
}

/** Why a path is unsafe to write inside the sandbox, or undefined when it is fine. */
export function pathProblem(path: string): string | undefined {
  if (path.includes('\0')) return 'must not contain NUL';
  if (CONTROL_CHARACTERS.test(path)) return 'must not contain control characters';
  if (path.includes('\\')) return 'must use / as separator';
  if (path.startsWith('/')) return 'must be relative';
  if (path === '.') return 'must name a file, not the app directory';
  if (path.split('/').includes('..')) return 'must not contain ".."';
  if (posix.normalize(path) !== path || path.endsWith('/') || path.startsWith('./')) return 'must be normalized (no "." segments, empty segments or trailing /)';
  if (path.split('/').some((segment) => Buffer.byteLength(segment) > 255)) return 'must have segments of at most 255 bytes';
  return undefined;
}

export function decodedSize(file: Pick<RequestFile, 'content' | 'encoding'>): number {
  if (file.encoding === 'utf8') return Buffer.byteLength(file.content, 'utf8');
  const padding = file.content.endsWith('==') ? 2 : file.content.endsWith('=') ? 1 : 0;
  return (file.content.length / 4) * 3 - padding;
}

export function decodeContent(file: Pick<RequestFile, 'content' | 'encoding'>): Buffer {
  return Buffer.from(file.content, file.encoding === 'base64' ? 'base64' : 'utf8');
}

