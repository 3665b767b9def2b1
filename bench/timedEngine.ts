import type { PlanInput, PlanningEngine, PlanResult } from '../nodes/core/planningEngine.js';

export interface PlanRecord {
  /** Wall time from engine.plan() to its resolution, seen by the caller (main thread) [ms]. */
  wallMs: number;
  /** Time plan() itself blocked the caller (validation, and naming ring slots or starting the sliced copy) [ms]. */
  callMs: number;
  /** The engine's own timing (measured in the worker). */
  timing: PlanResult['timing'];
  /** The frame bytes of the input (to measure the copy floor on exactly these bytes). */
  frames: Uint8Array[];
}

/** Wraps an engine and records, per resolved plan, the caller-side wall time next to the engine's timing. */
export class TimedEngine implements PlanningEngine {
  readonly records: PlanRecord[] = [];
  failures = 0;
  /** The inner engine's frame store, when it has one (the planner then writes frames into it once, on receipt). */
  readonly createFrameStore?: PlanningEngine['createFrameStore'];
  constructor(
    readonly inner: PlanningEngine,
    readonly keepFrames = false,
  ) {
    if (inner.createFrameStore) this.createFrameStore = inner.createFrameStore.bind(inner);
  }
  get contract() {
    return this.inner.contract;
  }
  get provider() {
    return this.inner.provider;
  }
  plan(input: PlanInput): Promise<PlanResult> {
    const t = performance.now();
    const pending = this.inner.plan(input);
    const callMs = performance.now() - t;
    return pending.then(
      (r) => {
        const wallMs = performance.now() - t;
        this.records.push({
          wallMs,
          callMs,
          timing: r.timing,
          frames: this.keepFrames ? input.frames.flat().map((f) => f.data) : [],
        });
        return r;
      },
      (e: unknown) => {
        this.failures++;
        throw e;
      },
    );
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}
