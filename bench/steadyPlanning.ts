/**
 * The start-up a real-clock planner benchmark waits out before it samples: the first seconds are not planning yet
 * (the frame rings allocate their slots and the main thread takes their first-write page faults, the history fills,
 * the first plans warm the model up), and a fixed short warm-up ends inside them.
 */
import { performance } from 'node:perf_hooks';

export interface SteadyOptions {
  /** Shortest start-up [s]. */
  warmupS: number;
  /** Plans to complete before sampling (default 8). */
  warmupPlans?: number;
  /** Longest start-up [s] (default 20): sampling starts then whatever the plans and rings did. */
  maxWarmupS?: number;
}

export const wait = (ms: number): Promise<void> => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Resolves once at least warmupS has passed, warmupPlans plans have completed and the rings have allocated no slot
 * for a second (or at maxWarmupS); returns the seconds it took.
 */
export async function steadyPlanning(
  o: SteadyOptions,
  plansDone: () => number,
  ringAllocations: () => number,
): Promise<number> {
  const t0 = performance.now();
  const elapsedS = () => (performance.now() - t0) / 1000;
  let slots = ringAllocations();
  let slotsSteadySinceS = 0;
  await wait(o.warmupS * 1000);
  while (elapsedS() < (o.maxWarmupS ?? 20)) {
    const now = ringAllocations();
    if (now !== slots) {
      slots = now;
      slotsSteadySinceS = elapsedS();
    }
    if (plansDone() >= (o.warmupPlans ?? 8) && elapsedS() - slotsSteadySinceS >= 1) break;
    await wait(100);
  }
  return elapsedS();
}
