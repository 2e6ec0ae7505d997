/**
 * EventBridge event patterns, as far as the stack's rules use them: literal values, `exists`,
 * `prefix` and `anything-but`, nested by field. Anything else throws, so a rule that starts
 * using more fails loudly here instead of silently never matching.
 */
export type EventPattern = { [field: string]: readonly unknown[] | EventPattern };

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  if (typeof event !== 'object' || event === null) return false;
  return Object.entries(pattern).every(([field, expected]) => {
    const present = Object.hasOwn(event, field);
    const actual = (event as Record<string, unknown>)[field];
    if (Array.isArray(expected)) return expected.some((matcher) => matchesValue(matcher, present, actual));
    return present && matchesPattern(expected as EventPattern, actual);
  });
}

function matchesValue(matcher: unknown, present: boolean, actual: unknown): boolean {
  if (matcher !== null && typeof matcher === 'object') {
    const [[kind, argument]] = Object.entries(matcher) as [[string, unknown]];
    if (kind === 'exists') return argument === (present && actual !== undefined);
    if (!present) return false;
    const values = Array.isArray(actual) ? actual : [actual];
    if (kind === 'prefix') return values.some((value) => typeof value === 'string' && value.startsWith(String(argument)));
    if (kind === 'anything-but') {
      const excluded = Array.isArray(argument) ? argument : [argument];
      return values.every((value) => !excluded.includes(value));
    }
    throw new Error(`event pattern matcher ${kind} is not supported locally`);
  }
  if (!present) return false;
  return Array.isArray(actual) ? actual.includes(matcher) : actual === matcher;
}
