/**
 * Page tokens of the table's queries: DynamoDB's LastEvaluatedKey, opaque to callers, and
 * checked on the way back to belong to the partition of the query that issued it (another
 * caller's token, or a forged one, never reaches DynamoDB).
 */
export function encodeToken(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** A page token this query issued: it must belong to the same index partition (e.g. the same caller). */
export function decodeToken(token: string | undefined, partition: Record<string, string>): Record<string, unknown> | undefined {
  if (!token) return undefined;
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidPageTokenError();
  }
  const valid =
    typeof key === 'object' &&
    key !== null &&
    typeof (key as Record<string, unknown>).pk === 'string' &&
    Object.entries(partition).every(([name, value]) => (key as Record<string, unknown>)[name] === value);
  if (!valid) throw new InvalidPageTokenError();
  return key as Record<string, unknown>;
}

export class InvalidPageTokenError extends Error {
  constructor() {
    super('nextToken is not a token this API issued');
    this.name = 'InvalidPageTokenError';
  }
}
