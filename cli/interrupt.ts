/**
 * Ctrl-C as an AbortSignal: while watched, SIGINT does not end the process; the command sees the
 * signal abort and decides what to do (ask, clean up, stop following) before it exits.
 */
export interface InterruptWatch {
  signal: AbortSignal;
  dispose(): void;
}

export function watchInterrupt(): InterruptWatch {
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.on('SIGINT', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
    },
  };
}
