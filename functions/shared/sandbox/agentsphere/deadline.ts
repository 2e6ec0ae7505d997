/**
 * A deadline for an SDK call that takes no abort signal (`files.write` sends its upload without
 * one, so a stalled daemon holds it for undici's 300 s header timeout).
 */
export async function withDeadline<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  // The call keeps running after the deadline; nobody awaits it any more, so silence its outcome.
  promise.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), timeoutMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
