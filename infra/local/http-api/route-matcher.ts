/**
 * HTTP API route selection: `METHOD /path` keys with `{name}` and greedy `{name+}` variables,
 * `ANY` as a method and `$default` as the catch-all. When several routes match, the most
 * specific wins, as in API Gateway: literal segments over variables, variables over a greedy
 * variable, an explicit method over `ANY`, and `$default` last.
 */

export const DEFAULT_ROUTE_KEY = '$default';

export interface ParsedRoute<T> {
  readonly routeKey: string;
  readonly method: string;
  readonly segments: readonly RouteSegment[];
  readonly value: T;
}

type RouteSegment = { kind: 'literal'; text: string } | { kind: 'variable'; name: string } | { kind: 'greedy'; name: string };

export interface RouteMatch<T> {
  route: ParsedRoute<T>;
  pathParameters: Record<string, string>;
}

export interface RouteTable<T> {
  /** `path` is the raw (still percent-encoded) request path; parameter values come out decoded. */
  match(method: string, path: string): RouteMatch<T> | undefined;
}

export function createRouteTable<T>(routes: ReadonlyArray<{ routeKey: string; value: T }>): RouteTable<T> {
  const parsed = routes.map(({ routeKey, value }) => parseRouteKey(routeKey, value));
  rejectDuplicates(parsed);
  const ordered = [...parsed].sort(bySpecificity);
  return {
    match(method, path) {
      const requestSegments = path.split('/').slice(1);
      for (const route of ordered) {
        if (route.method !== 'ANY' && route.method !== method.toUpperCase()) continue;
        const pathParameters = matchSegments(route.segments, requestSegments);
        if (pathParameters) return { route, pathParameters };
      }
      return undefined;
    },
  };
}

export function parseRouteKey<T>(routeKey: string, value: T): ParsedRoute<T> {
  if (routeKey === DEFAULT_ROUTE_KEY) return { routeKey, method: 'ANY', segments: [{ kind: 'greedy', name: '' }], value };
  const match = /^([A-Z]+) (\/\S*)$/.exec(routeKey);
  if (!match) throw new Error(`route key "${routeKey}" must look like "GET /path" or be "$default"`);
  const [, method = '', path = ''] = match;
  const segments = path.split('/').slice(1).map(parseSegment);
  const greedyAt = segments.findIndex((segment) => segment.kind === 'greedy');
  if (greedyAt !== -1 && greedyAt !== segments.length - 1) {
    throw new Error(`route key "${routeKey}": a greedy {name+} variable must be the last segment`);
  }
  return { routeKey, method, segments, value };
}

function parseSegment(text: string): RouteSegment {
  const variable = /^\{([A-Za-z0-9_.-]+)(\+?)\}$/.exec(text);
  if (!variable) return { kind: 'literal', text };
  const [, name = '', greedy] = variable;
  return greedy ? { kind: 'greedy', name } : { kind: 'variable', name };
}

function matchSegments(template: readonly RouteSegment[], request: string[]): Record<string, string> | undefined {
  const parameters: Record<string, string> = {};
  for (const [index, segment] of template.entries()) {
    if (segment.kind === 'greedy') {
      const rest = request.slice(index);
      // A greedy variable needs at least one non-empty segment: `/{proxy+}` does not match `/`.
      if (rest.length === 0 || rest.join('/') === '') return undefined;
      if (segment.name) parameters[segment.name] = decodePathSegment(rest.join('/'));
      return parameters;
    }
    const value = request[index];
    if (value === undefined) return undefined;
    if (segment.kind === 'literal' && decodePathSegment(value) !== segment.text) return undefined;
    if (segment.kind === 'variable') {
      if (value === '') return undefined;
      parameters[segment.name] = decodePathSegment(value);
    }
  }
  return template.length === request.length ? parameters : undefined;
}

/** Percent-decodes, leaving a malformed escape as it was instead of failing the request. */
export function decodePathSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

const SEGMENT_RANK = { literal: 0, variable: 1, greedy: 2 } as const;

function bySpecificity<T>(a: ParsedRoute<T>, b: ParsedRoute<T>): number {
  const defaultOrder = Number(a.routeKey === DEFAULT_ROUTE_KEY) - Number(b.routeKey === DEFAULT_ROUTE_KEY);
  if (defaultOrder !== 0) return defaultOrder;
  const greedyOrder = Number(hasGreedy(a)) - Number(hasGreedy(b));
  if (greedyOrder !== 0) return greedyOrder;
  for (let index = 0; index < Math.min(a.segments.length, b.segments.length); index++) {
    const order = SEGMENT_RANK[a.segments[index]!.kind] - SEGMENT_RANK[b.segments[index]!.kind];
    if (order !== 0) return order;
  }
  // Among greedy routes the longer fixed prefix is the more specific one.
  const lengthOrder = b.segments.length - a.segments.length;
  if (lengthOrder !== 0) return lengthOrder;
  return Number(a.method === 'ANY') - Number(b.method === 'ANY');
}

function hasGreedy<T>(route: ParsedRoute<T>): boolean {
  return route.segments.some((segment) => segment.kind === 'greedy');
}

function rejectDuplicates<T>(routes: ReadonlyArray<ParsedRoute<T>>): void {
  const seen = new Set<string>();
  for (const route of routes) {
    if (seen.has(route.routeKey)) throw new Error(`route key "${route.routeKey}" is declared twice`);
    seen.add(route.routeKey);
  }
}
