/**
 * `projectId` names the app; a redeploy with `reuse` finds the project's live sandbox by it. One
 * rule for the API's bodies and queries and the CLI's `--project`.
 */
import * as z from 'zod';

export const PROJECT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
export const PROJECT_ID_RULE = 'must be 1-128 characters of letters, digits, ".", "_" or "-", starting with a letter or digit';

export const projectIdSchema = z.string().regex(PROJECT_ID_PATTERN, PROJECT_ID_RULE);

export function isProjectId(value: string): boolean {
  return PROJECT_ID_PATTERN.test(value);
}
