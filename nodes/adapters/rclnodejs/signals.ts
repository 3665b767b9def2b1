import { errorFirstLine } from '../../core/errors.js';

/** The slice of `process` the shutdown logic uses (injected in tests). */
export interface ProcessLike {
  on(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  removeListener(event: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  exit(code?: number): never | void;
  kill(pid: number, signal: NodeJS.Signals): unknown;
  readonly pid: number;
}

/**
 * What the signal handling asks of the node before it gives up on a shutdown: a plain exit blocks while a worker
 * thread is inside native code (Node joins its threads on exit, and an onnxruntime graph run cannot be stopped: the
 * exit waits for the run, however long, then aborts the process when the run's callback finds the thread gone).
 */
export interface ExitChecks {
  /** Why a plain exit would block now (e.g. "the inference worker is inside a graph run"), or undefined. */
  blockedBy?: () => string | undefined;
  /** Runs before the process ends itself with SIGKILL: leave the ROS graph (synchronous). */
  beforeKill?: () => void;
}

export interface TimerHost {
  setTimeout(fire: () => void, ms: number): { unref?(): unknown };
  clearTimeout(handle: unknown): void;
}

const SHUTDOWN_DEADLINE_MS = 2000;
/** [ms] how often a finished shutdown asks whether native work still blocks the exit. */
const NATIVE_POLL_MS = 50;

/**
 * SIGINT and SIGTERM both run `shutdown` once and then exit: 0 when it finished cleanly, 1 when it failed or
 * did not finish within deadlineMs (ros2 launch sends SIGTERM 5 s after SIGINT, SIGKILL 5 s later). A second
 * signal while shutdown runs exits at once with 1 (once the node has stopped, its handlers are removed: a further
 * signal ends the process by Node's default action, which waits for nothing). A plain exit waits for native work in worker threads
 * (checks.blockedBy): after a clean shutdown the exit waits for that work until the deadline; when it gives up while
 * checks.blockedBy still names work, the process ends itself with SIGKILL instead (after checks.beforeKill), so the
 * deadline holds. Returns a function that removes the handlers.
 */
export function exitOnSignals(
  proc: ProcessLike,
  shutdown: (signal: 'SIGINT' | 'SIGTERM') => Promise<void>,
  log: (message: string) => void,
  timers: TimerHost = globalThis,
  deadlineMs = SHUTDOWN_DEADLINE_MS,
  checks: ExitChecks = {},
): () => void {
  let stopping = false;
  /** An exit or a kill was issued (a pending wait for native work stops). */
  let ended = false;
  const blockedBy = (): string | undefined => {
    try {
      return checks.blockedBy?.();
    } catch (e) {
      // A check that fails cannot vouch for a plain exit (it runs in a timer: a throw here would end the process
      // through the same exit).
      return `the exit check failed (${errorFirstLine(e)})`;
    }
  };
  const giveUp = (why: string) => {
    ended = true;
    const blocked = blockedBy();
    if (blocked === undefined) {
      log(`${why}: exiting`);
      proc.exit(1);
      return;
    }
    log(
      `${why}: ${blocked}; a plain exit would wait for that native work, then abort: ending the process with SIGKILL`,
    );
    try {
      checks.beforeKill?.();
    } catch (e) {
      log(`leaving the ROS graph before SIGKILL failed: ${errorFirstLine(e)}`);
    } finally {
      proc.kill(proc.pid, 'SIGKILL');
    }
  };
  const onSignal = (signal: 'SIGINT' | 'SIGTERM') => () => {
    if (stopping) {
      giveUp(`${signal} again while shutting down`);
      return;
    }
    stopping = true;
    log(`${signal}: shutting down`);
    const deadline = timers.setTimeout(() => giveUp(`shutdown did not finish within ${deadlineMs} ms`), deadlineMs);
    deadline.unref?.();
    // After a clean shutdown: exit once no worker thread is in native code (e.g. a bundle still loading when the
    // signal came), or give up at the deadline.
    const exitWhenFree = () => {
      if (ended) return;
      if (blockedBy() !== undefined) {
        timers.setTimeout(exitWhenFree, NATIVE_POLL_MS).unref?.();
        return;
      }
      ended = true;
      timers.clearTimeout(deadline);
      proc.exit(0);
    };
    shutdown(signal).then(exitWhenFree, (e: unknown) => {
      timers.clearTimeout(deadline);
      giveUp(`shutdown failed: ${errorFirstLine(e)}`);
    });
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
