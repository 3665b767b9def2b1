import { Subscription, VirtualAction, VirtualTimeScheduler } from 'rxjs';

/**
 * A VirtualAction that, when rescheduled (interval, a periodic timer), hangs the new action on the FIRST action
 * and lets go of the previous one. RxJS's VirtualAction nests each reschedule inside the previous action, so a
 * periodic timer builds a chain one subscription deeper per tick: memory grows with every tick and unsubscribing
 * after ~10^5 ticks overflows the stack (found by the soak, test/faults/soak.test.ts).
 */
class SteppingAction<T> extends VirtualAction<T> {
  #root: SteppingAction<T> | undefined;

  override schedule(state?: T, delay = 0): Subscription {
    if (!Number.isFinite(delay)) return Subscription.EMPTY;
    if (!this.id) return super.schedule(state, delay);
    this.active = false;
    const root = this.#root ?? this;
    const action = new SteppingAction<T>(this.scheduler, this.work);
    action.#root = root;
    root.add(action);
    if (this !== root) root.remove(this);
    return action.schedule(state, delay);
  }

  /**
   * Queues the action in time order, then creation order, as RxJS's VirtualAction does, but by a binary search and
   * one insertion instead of a push and a sort of the whole queue: the queue is always in that order (actions leave
   * it from the front when run or from anywhere when unsubscribed, which keeps the rest in order, and an action's
   * time and index never change while it is queued), so the place found is the one the stable sort gave. The sort
   * copied the queue on every schedule (every bus delivery and timer tick): a tenth of replay's allocations.
   */
  protected override requestAsyncId(scheduler: VirtualTimeScheduler, _id?: unknown, delay = 0): number {
    this.delay = scheduler.frame + delay;
    const actions = scheduler.actions as Array<SteppingAction<unknown>>;
    let lo = 0;
    let hi = actions.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const a = actions[mid]!;
      if (a.delay > this.delay || (a.delay === this.delay && a.index > this.index)) hi = mid;
      else lo = mid + 1;
    }
    actions.splice(lo, 0, this as SteppingAction<unknown>);
    return 1;
  }
}

/**
 * Virtual time in milliseconds that can be advanced step by step, awaiting asynchronous work (a real inference
 * in a worker) between steps: time stands still while the work runs, so results are independent of how fast
 * the machine is. Replay sets the start to the bag's first timestamp.
 */
export class SteppingScheduler extends VirtualTimeScheduler {
  constructor(startMs = 0) {
    super(SteppingAction as typeof VirtualAction, Infinity);
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
  /** Tracked promises settled since idle() last returned: only then can callbacks still be on their way. */
  #settled = 0;
  #waiters: Array<() => void> = [];

  track<T>(p: Promise<T>): Promise<T> {
    this.#pending++;
    const done = () => {
      this.#pending--;
      this.#settled++;
      if (this.#pending === 0) for (const w of this.#waiters.splice(0)) w();
    };
    p.then(done, done);
    return p;
  }

  get pending(): number {
    return this.#pending;
  }

  /**
   * Says that promise callbacks were just set off outside tracked work (e.g. a scheduler action resolving a
   * promise): the next idle() lets them run before virtual time moves on.
   */
  expectCallbacks(): void {
    this.#settled++;
  }

  /**
   * Resolves once nothing is pending, after letting settled promise callbacks run (one macrotask turn). When nothing
   * was tracked since the last call it returns at once: replay calls this before every virtual instant, and a
   * setImmediate per instant was a large share of replay time.
   */
  async idle(): Promise<void> {
    if (this.#pending === 0 && this.#settled === 0) return;
    for (;;) {
      if (this.#pending === 0) {
        await new Promise<void>((r) => setImmediate(r));
        if (this.#pending === 0) {
          this.#settled = 0;
          return;
        }
      }
      await new Promise<void>((r) => this.#waiters.push(r));
    }
  }
}
