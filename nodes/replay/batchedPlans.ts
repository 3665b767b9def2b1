/**
 * Batched inference across bags replayed at once (`ar1 replay --batch B`). Each bag gets a lane: the shared engine
 * as that bag's planner sees it. A plan asked for on a lane waits until every open lane has a plan waiting (or
 * maxPlans wait), then all of them go to the engine in one planBatch call. This cannot stall a bag: while its plan
 * waits its virtual time stands still (the latency model tracks the plan), and every other bag either asks for a
 * plan or finishes (closing its lane). The engine answers each plan of a batch as it would answer it alone, so what
 * each bag publishes does not depend on which plans were batched together.
 */
import type { PlanInput, PlanningEngine, PlanResult } from '../core/planningEngine.js';

interface Waiting {
  input: PlanInput;
  lane: LaneState;
  resolve: (r: PlanResult) => void;
  reject: (e: unknown) => void;
}
interface LaneState {
  open: boolean;
  waiting: number;
}

/** A bag's view of the shared engine; done() when the bag is finished (or failed), so others stop waiting for it. */
export type PlanLane = PlanningEngine & { done(): void };

export interface BatchStats {
  /** planBatch calls made. */
  batches: number;
  /** Plans sent in them. */
  plans: number;
  /** The most plans in one call. */
  largest: number;
}

export class PlanBatcher {
  readonly #lanes = new Set<LaneState>();
  #queue: Waiting[] = [];
  #inFlight = false;
  readonly #stats: BatchStats = { batches: 0, plans: 0, largest: 0 };

  constructor(
    readonly engine: PlanningEngine,
    readonly maxPlans: number,
  ) {
    if (!Number.isInteger(maxPlans) || maxPlans < 1)
      throw new RangeError(`maxPlans: expected an integer >= 1, got ${maxPlans}`);
  }

  get stats(): BatchStats {
    return { ...this.#stats };
  }

  lane(): PlanLane {
    const state: LaneState = { open: true, waiting: 0 };
    this.#lanes.add(state);
    const engine = this.engine;
    return {
      contract: engine.contract,
      get provider() {
        return engine.provider;
      },
      // The engine is shared: the lane's owner does not close it.
      close: () => Promise.resolve(),
      ...(engine.createFrameStore ? { createFrameStore: engine.createFrameStore.bind(engine) } : {}),
      plan: (input) =>
        new Promise<PlanResult>((resolve, reject) => {
          if (!state.open) throw new RangeError('plan() on a lane after done()');
          state.waiting++;
          this.#queue.push({ input, lane: state, resolve, reject });
          this.#dispatch();
        }),
      done: () => {
        if (!state.open) return;
        state.open = false;
        this.#lanes.delete(state);
        this.#dispatch();
      },
    };
  }

  /** Sends the waiting plans once none is in flight and every open lane has one waiting (or maxPlans wait). */
  #dispatch(): void {
    if (this.#inFlight || this.#queue.length === 0) return;
    if (this.#queue.length < this.maxPlans && [...this.#lanes].some((l) => l.waiting === 0)) return;
    const batch = this.#queue.splice(0, this.maxPlans);
    this.#inFlight = true;
    this.#stats.batches++;
    this.#stats.plans += batch.length;
    this.#stats.largest = Math.max(this.#stats.largest, batch.length);
    let results: Promise<PlanResult>[];
    try {
      const inputs = batch.map((w) => w.input);
      results = this.engine.planBatch ? this.engine.planBatch(inputs) : inputs.map((i) => this.engine.plan(i));
    } catch (e) {
      results = batch.map(() => Promise.reject(e));
    }
    batch.forEach((w, i) =>
      results[i]!.then(
        (r) => {
          w.lane.waiting--;
          w.resolve(r);
        },
        (e: unknown) => {
          w.lane.waiting--;
          w.reject(e);
        },
      ),
    );
    void Promise.allSettled(results).then(() => {
      this.#inFlight = false;
      this.#dispatch();
    });
  }
}
