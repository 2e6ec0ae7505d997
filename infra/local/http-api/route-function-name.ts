/** Function names for routes that do not name their function. */
/** A stable, Lambda-legal function name for a route without one, e.g. `local-get-deployments-id`. */
export function functionNameForRoute(routeKey: string): string {
  const slug = routeKey
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `local-${slug || 'default'}`.slice(0, 64);
}
