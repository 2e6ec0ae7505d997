/**
 * `POST /deployments` with a manifest instead of contents: each file by path, size, sha256 and
 * mode. Files the build plan reads may carry their content inline (the plan runs before anything
 * is uploaded); every other byte goes to S3 through the presigned parts of the answer.
 */
import { createHash } from 'node:crypto';
import * as z from 'zod';
import {
  appOptionsSchema,
  BASE64,
  decodeContent,
  pathProblem,
  sandboxIdSchema,
} from '../deployment-request.ts';
import { DEFAULT_LIMITS, type DeploymentLimits } from '../deployment-limits.ts';
import { projectIdSchema } from '../project-id.ts';
import { DEFAULT_MANIFEST_LIMITS, type ManifestLimits } from './manifest-limits.ts';
import { DEFAULT_CALLBACK_URL_POLICY, type CallbackUrlPolicy } from '../../webhooks/callback-url.ts';

export const SHA256_HEX = /^[0-9a-f]{64}$/;
export const DEFAULT_FILE_MODE = 0o644;

export function manifestRequestSchema(
  limits: ManifestLimits = DEFAULT_MANIFEST_LIMITS,
  requestLimits: DeploymentLimits = DEFAULT_LIMITS,
  callbackUrls: CallbackUrlPolicy = DEFAULT_CALLBACK_URL_POLICY,
) {
  const entry = z.strictObject({
    path: z.string().min(1, 'must not be empty').max(requestLimits.maxPathLength, `must be at most ${requestLimits.maxPathLength} characters`),
    size: z
      .number()
      .int('must be an integer')
      .min(0, 'must not be negative')
      .max(limits.maxFileBytes, `must be at most ${limits.maxFileBytes} bytes`),
    sha256: z.string().regex(SHA256_HEX, 'must be 64 lower-case hex digits (the SHA-256 of the content)'),
    /** Permission bits, e.g. 0o755 (493) for an executable. */
    mode: z.number().int('must be an integer').min(0, 'must be between 0 and 0o777').max(0o777, 'must be between 0 and 0o777').default(DEFAULT_FILE_MODE),
    content: z.string().optional(),
    encoding: z.enum(['utf8', 'base64']).default('utf8'),
  });
  const options = appOptionsSchema(requestLimits, callbackUrls);
  return z
    .strictObject({
      projectId: projectIdSchema,
      manifest: z.array(entry).min(1, 'must list at least one file').max(limits.maxFiles, `must list at most ${limits.maxFiles} files`),
      options: options.default(() => options.parse({})),
      sandboxId: sandboxIdSchema.optional(),
      reuse: z.boolean().optional(),
    })
    .superRefine((request, context) => {
      if (request.sandboxId && request.reuse !== undefined) {
        context.addIssue({ code: 'custom', path: ['reuse'], message: 'cannot be combined with sandboxId' });
      }
      checkEntries(request.manifest, limits, context);
    });
}

export type ManifestRequest = z.output<ReturnType<typeof manifestRequestSchema>>;
export type ManifestEntry = ManifestRequest['manifest'][number];

function checkEntries(entries: ManifestEntry[], limits: ManifestLimits, context: z.RefinementCtx): void {
  const seen = new Set<string>();
  let total = 0;
  let inline = 0;
  entries.forEach((entry, index) => {
    const issue = (field: string | undefined, message: string) =>
      context.addIssue({ code: 'custom', path: field ? ['manifest', index, field] : ['manifest', index], message });
    const problem = pathProblem(entry.path);
    if (problem) issue('path', problem);
    if (seen.has(entry.path)) issue('path', 'duplicates an earlier file');
    seen.add(entry.path);
    total += entry.size;
    if (entry.content === undefined) return;
    if (entry.encoding === 'base64' && !BASE64.test(entry.content)) return issue('content', 'is not valid base64');
    const content = decodeContent({ content: entry.content, encoding: entry.encoding });
    inline += content.length;
    if (content.length > limits.maxInlineFileBytes) return issue('content', `must be at most ${limits.maxInlineFileBytes} bytes inline (is ${content.length}); upload it instead`);
    if (content.length !== entry.size) return issue('size', `is ${entry.size} but the inline content has ${content.length} bytes`);
    const digest = createHash('sha256').update(content).digest('hex');
    if (digest !== entry.sha256) issue('sha256', `does not match the inline content (whose SHA-256 is ${digest})`);
  });
  if (total > limits.maxTotalBytes) context.addIssue({ code: 'custom', path: ['manifest'], message: `must total at most ${limits.maxTotalBytes} bytes (is ${total})` });
  if (inline > limits.maxInlineBytes) context.addIssue({ code: 'custom', path: ['manifest'], message: `inline contents must total at most ${limits.maxInlineBytes} bytes (is ${inline})` });
}

/** True when the body is a manifest request rather than inline contents. */
export function isManifestBody(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'manifest' in body && !('files' in body);
}
