/**
 * The health path is joined to the sandbox's own port URL, so it must stay a path: anything that
 * URL parsing could read as another host (`//host`, `\\host`, `user@host`, a scheme) would let a
 * deployment probe someone else's app or any address the service can reach.
 */
export const MAX_HEALTH_PATH_LENGTH = 512;

/** RFC 3986 path characters, without `@` (userinfo) and `\` (which WHATWG URLs read as `/`). */
const PATH_CHARACTERS = /^[A-Za-z0-9\-._~!$&'()*+,;=:%/]*$/;

/** Why a health path is refused, or undefined when it is a plain path. */
export function healthPathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must start with /';
  if (path.length > MAX_HEALTH_PATH_LENGTH) return `must be at most ${MAX_HEALTH_PATH_LENGTH} characters`;
  if (path.startsWith('//') || path.includes('//')) return 'must not contain "//" (it would name another host)';
  if (path.includes('\\')) return 'must not contain a backslash';
  if (path.includes('@')) return 'must not contain "@"';
  if (/[?#]/.test(path)) return 'must not contain a query or fragment';
  if (!PATH_CHARACTERS.test(path)) return 'must contain only URL path characters (no spaces or control characters)';
  if (/%(?![0-9A-Fa-f]{2})/.test(path)) return 'must use % only in %XX escapes';
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) return 'must not contain "." or ".." segments';
  return undefined;
}

/**
 * The URL of `path` on exactly the origin of `baseUrl`. Throws when the result would leave that
 * origin: the probe must only ever reach the deployment's own sandbox port.
 */
export function sameOriginUrl(baseUrl: string, path: string): URL {
  const base = new URL(baseUrl);
  const problem = healthPathProblem(path);
  if (problem) throw new RangeError(`health path "${path}" ${problem}`);
  const target = new URL(`${base.origin}${path}`);
  if (target.origin !== base.origin) throw new RangeError(`health path "${path}" leaves ${base.origin}`);
  return target;
}
