/**
 * zod issues in the shape every 4xx answers with, `{ field: "files[3].path", rule, message }`:
 * one copy for request bodies, query strings and task events.
 */
import type * as z from 'zod';

export interface FieldProblem {
  field: string;
  rule: string;
  message: string;
}

/** `whole` names what a problem of no particular field is about: '(body)', '(query)', '(event)'. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], whole = '(body)'): FieldProblem[] {
  return issues.map((issue) => {
    const field = fieldOf(issue.path);
    // A record key's own rule sits one level down.
    const detail = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
    const rule = issue.code === 'unrecognized_keys' ? 'unknown field' : detail;
    const named = field || whole.replace(/[()]/g, '');
    const message = issue.code === 'unrecognized_keys' ? `${named} has unknown field(s): ${issue.keys.join(', ')}` : `${named} ${detail}`;
    return { field: field || whole, rule, message };
  });
}

/** `files[3].path`: array indexes in brackets, keys joined by dots. */
function fieldOf(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, segment) => (typeof segment === 'number' ? `${text}[${segment}]` : text ? `${text}.${String(segment)}` : String(segment)),
    '',
  );
}
