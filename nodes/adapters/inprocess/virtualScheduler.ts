import { VirtualAction, VirtualTimeScheduler } from 'rxjs';

/**
 * Virtual time in milliseconds that can be advanced step by step, awaiting asynchronous work (a real inference
 * in a worker) between steps: time stands still while the work runs, so results are independent of how fast
 * the machine is. Replay sets the start to the bag's first timestamp.
 */
export class SteppingScheduler extends VirtualTimeScheduler {
  constructor(startMs = 0) {
    super(VirtualAction, Infinity);
    this.frame = startMs;
  }

  /** Time of the next scheduled action, or undefined. */
  nextDueMs(): number | undefined {
    return this.actions[0]?.delay;
  }

  /** Runs every action due at or before targetMs in time order, awaiting idle() before each instant. */
  async advanceTo(targetMs: number, idle: () => Promise<void> = async () => {}): Promise<void> {
    for (;;) {
      await idle();
      const next = this.actions[0];
      if (!next || next.delay > targetMs) break;
      this.maxFrames = next.delay;
      this.flush();
    }
    this.maxFrames = Infinity;
    if (targetMs > this.frame) this.frame = targetMs;
  }

  /** Advances by durationMs. */
  advanceBy(durationMs: number, idle?: () => Promise<void>): Promise<void> {
    return this.advanceTo(this.frame + durationMs, idle);
  }
}

/** Counts in-flight promises so a replay can wait for them before moving virtual time. */
export class WorkTracker {
  #pending = 0;
  #waiters: Array<() => void> = [];

  track<T>(p: Promise<T>): Promise<T> {
    this.#pending++;
    const done = () => {
      this.#pending--;
      if (this.#pending === 0) for (const w of this.#waiters.splice(0)) w();
    };
    p.then(done, done);
    return p;
  }

  get pending(): number { return this.#pending; }

  /** Resolves once nothing is pending, after letting settled promise callbacks run. */
  async idle(): Promise<void> {
    for (;;) {
      if (this.#pending === 0) {
        await new Promise<void>((r) => setImmediate(r));
        if (this.#pending === 0) return;
      }
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }
}
