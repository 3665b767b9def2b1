/**
 * The inference worker runs at a lower CPU priority than the node's main thread. The main thread publishes commands
 * at 50 Hz and copies camera frames on receipt; the worker's onnxruntime threads can keep every core busy for the
 * length of a plan. On a machine with few cores (measured on 2) the kernel then lets a waking main thread wait for a
 * time slice, and its 1 ms timers fire milliseconds late. With the worker at a higher nice value the scheduler runs
 * the main thread first whenever both want a core; the worker still gets every cycle the main thread leaves.
 *
 * Linux only: a thread's nice value is per thread there (setpriority on its thread id), and the threads a thread
 * creates inherit it, so setting it in the worker before the sessions exist covers onnxruntime's intra-op pool too.
 * Raising one's own nice value needs no privilege. Elsewhere, or when the kernel refuses, nothing changes and the
 * caller is told why (priority is best effort; it never stops the engine from starting).
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** Highest nice value Linux accepts (lowest priority). */
export const MAX_NICE = 19;

export type PriorityOutcome =
  | { kind: 'lowered'; tid: number; from: number; to: number }
  /** Already at that nice value or a higher one (the whole process was started niced). */
  | { kind: 'kept'; tid: number; nice: number }
  | { kind: 'unchanged'; reason: string };

/** What lowerThreadPriority touches; injected by tests. */
export interface PriorityIo {
  platform: NodeJS.Platform;
  /** readlink of /proc/thread-self: "<pid>/task/<tid>". */
  threadSelf: () => string;
  getPriority: (id: number) => number;
  setPriority: (id: number, nice: number) => void;
}

const SYSTEM_IO: PriorityIo = {
  platform: process.platform,
  threadSelf: () => readlinkSync('/proc/thread-self'),
  getPriority,
  setPriority,
};

/** The kernel id of the calling thread, from /proc/thread-self ("<pid>/task/<tid>"); undefined when unreadable. */
export function currentThreadId(io: Pick<PriorityIo, 'threadSelf'> = SYSTEM_IO): number | undefined {
  let link: string;
  try {
    link = io.threadSelf();
  } catch {
    return undefined;
  }
  const m = /(?:^|\/)task\/(\d+)$/.exec(link);
  return m ? Number(m[1]) : undefined;
}

/**
 * Raises the calling thread's nice value to `nice` (0…19) when it is lower; never raises its priority. Threads it
 * creates afterwards inherit the value. Throws RangeError for a value outside 0…19 (a caller's mistake).
 */
export function lowerThreadPriority(nice: number, io: PriorityIo = SYSTEM_IO): PriorityOutcome {
  if (!Number.isInteger(nice) || nice < 0 || nice > MAX_NICE)
    throw new RangeError(`inference nice value: expected an integer 0…${MAX_NICE}, got ${nice}`);
  if (nice === 0) return { kind: 'unchanged', reason: 'nice 0: the same priority as the main thread' };
  if (io.platform !== 'linux')
    return { kind: 'unchanged', reason: `per-thread priority is set on Linux only (platform ${io.platform})` };
  const tid = currentThreadId(io);
  if (tid === undefined) return { kind: 'unchanged', reason: '/proc/thread-self is not readable' };
  try {
    const from = io.getPriority(tid);
    if (from >= nice) return { kind: 'kept', tid, nice: from };
    io.setPriority(tid, nice);
    return { kind: 'lowered', tid, from, to: io.getPriority(tid) };
  } catch (e) {
    return { kind: 'unchanged', reason: `setpriority on thread ${tid} refused: ${(e as Error).message}` };
  }
}
