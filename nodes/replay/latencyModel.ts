import type { SchedulerLike } from 'rxjs';
import type { PlanInput, PlanningEngine, PlanResult } from '../core/planningEngine.js';
import type { WorkTracker } from '../adapters/inprocess/virtualScheduler.js';

/** How long a plan takes in virtual time: a fixed latency (AR1's published 100 ms by default) or the measured compute time. */
export type LatencyModel = { kind: 'fixed'; ms: number } | { kind: 'measured' };

export function parseLatency(text: string | undefined): LatencyModel {
  if (text === undefined || text === '') return { kind: 'fixed', ms: 100 };
  if (text === 'measured') return { kind: 'measured' };
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms < 0)
    throw new RangeError(`--latency: expected milliseconds >= 0 or "measured", got "${text}"`);
  return { kind: 'fixed', ms };
}

export function describeLatency(m: LatencyModel): { mode: 'fixed' | 'measured'; ms: number | null } {
  return m.kind === 'fixed' ? { mode: 'fixed', ms: m.ms } : { mode: 'measured', ms: null };
}

/**
 * An engine with a latency model applied (replay, sim, AlpaSim): the engine as the planner sees it in virtual time: the real computation runs while virtual time stands still (tracked, so the
 * replay waits for it), then the result is handed to the planner at t0 + latency in virtual time.
 * Every result is also passed to onResult (for scoring all samples and for compute statistics).
 */
export function withModelledLatency(
  engine: PlanningEngine,
  scheduler: SchedulerLike,
  tracker: WorkTracker,
  latency: LatencyModel,
  onResult: (result: PlanResult, input: PlanInput) => void = () => {},
): PlanningEngine {
  return {
    contract: engine.contract,
    get provider() {
      return engine.provider;
    },
    close: () => engine.close(),
    // Frames are written once into the engine's shared memory, as on a vehicle.
    ...(engine.createFrameStore ? { createFrameStore: engine.createFrameStore.bind(engine) } : {}),
    async plan(input: PlanInput): Promise<PlanResult> {
      const measured = await tracker.track(engine.plan(input));
      onResult(measured, input);
      const delayMs = latency.kind === 'fixed' ? latency.ms : measured.timing.totalMs;
      // With a fixed latency what the nodes publish must not depend on this machine's speed (byte-identical
      // output bags): /ar1/timing and /ar1/reasoning carry the modelled latency, not the measured one (that goes
      // to compute.json through onResult).
      const result: PlanResult =
        latency.kind === 'measured'
          ? measured
          : {
              ...measured,
              reasoning: { ...measured.reasoning, generationMs: 0 },
              timing: {
                preprocessMs: 0,
                visionMs: 0,
                reasoningMs: 0,
                actionMs: 0,
                totalMs: latency.ms,
                sessionRunMs: 0,
              },
            };
      const dueMs = Math.max(scheduler.now(), input.t0S * 1000 + delayMs);
      return new Promise<PlanResult>((resolve) => {
        scheduler.schedule(() => {
          tracker.expectCallbacks();
          resolve(result);
        }, dueMs - scheduler.now());
      });
    },
  };
}
