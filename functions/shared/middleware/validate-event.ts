/** middy middleware: parses a Step Functions task event with a zod schema before the handler runs. */
import type middy from '@middy/core';
import type * as z from 'zod';
import { describeIssues } from '../validation/field-problems.ts';

/** A task event that does not match its schema: a bug in the state machine, not worth retrying. */
export class InvalidTaskInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTaskInputError';
  }
}

export function validateEvent<Schema extends z.ZodType>(schema: Schema): middy.MiddlewareObj<unknown> {
  return {
    before: (request) => {
      const parsed = schema.safeParse(request.event);
      if (!parsed.success) {
        const problems = describeIssues(parsed.error.issues, '(event)').map((problem) => problem.message);
        throw new InvalidTaskInputError(`invalid task input: ${problems.join('; ')}`);
      }
      request.event = parsed.data;
    },
  };
}
