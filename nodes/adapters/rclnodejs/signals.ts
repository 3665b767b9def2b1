/** The slice of `process` the shutdown logic uses (injected in tests). */
export interface ProcessLike {
  on(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  removeListener(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  exit(code?: number): never | void;
}

export interface TimerHost {
  setTimeout(fire: () => void, ms: number): { unref?(): unknown };
  clearTimeout(handle: unknown): void;
}

const SHUTDOWN_DEADLINE_MS = 2000;

/**
 * SIGINT and SIGTERM both run `shutdown` once and then exit: 0 when it finished cleanly, 1 when it failed or
 * did not finish within deadlineMs (ros2 launch sends SIGTERM 5 s after SIGINT, SIGKILL 5 s later). A second
 * signal while shutting down exits at once with 1. Returns a function that removes the handlers.
 */
export function exitOnSignals(
  proc: ProcessLike,
  shutdown: (signal: 'SIGINT' | 'SIGTERM') => Promise<void>,
  log: (message: string) => void,
  timers: TimerHost = globalThis,
  deadlineMs = SHUTDOWN_DEADLINE_MS,
): () => void {
  let stopping = false;
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => () => {
    if (stopping) {
      log(`${signal} again while shutting down: exiting now`);
      proc.exit(1);
      return;
    }
    stopping = true;
    log(`${signal}: shutting down`);
    const deadline = timers.setTimeout(() => {
      log(`shutdown did not finish within ${deadlineMs} ms: exiting`);
      proc.exit(1);
    }, deadlineMs);
    deadline.unref?.();
    shutdown(signal).then(
      () => {
        timers.clearTimeout(deadline);
        proc.exit(0);
      },
      (e: unknown) => {
        timers.clearTimeout(deadline);
        log(`shutdown failed: ${e instanceof Error ? e.message : String(e)}`);
        proc.exit(1);
      },
    );
  };
  const int = onSignal('SIGINT');
  const term = onSignal('SIGTERM');
  proc.on('SIGINT', int);
  proc.on('SIGTERM', term);
  return () => {
    proc.removeListener('SIGINT', int);
    proc.removeListener('SIGTERM', term);
  };
}
