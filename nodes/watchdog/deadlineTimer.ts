import { Subscription, type SchedulerLike } from 'rxjs';
import type { Clock } from '../core/clock.js';

/**
 * The watchdog's one-shot deadline timer: at most one pending firing, on the steady scheduler, due epsilonS after
 * the earliest input deadline (the monitors fault on "age > limit", strictly, so at the deadline itself nothing is
 * late yet). Re-arming for a later deadline keeps the earlier firing (when it fires, the node re-arms for what is
 * left); soon() fires epsilonS from now, at most once per control period.
 */
export class DeadlineTimer {
  #pending = Subscription.EMPTY;
  /** Steady time the pending firing is due [s]; Infinity when none. */
  #dueS = Number.POSITIVE_INFINITY;
  /** Steady time of the last soon() that scheduled a firing [s]. */
  #lastSoonS = Number.NaN;

  constructor(
    private readonly scheduler: SchedulerLike,
    private readonly steady: Clock,
    private readonly periodS: number,
    private readonly epsilonS: number,
    private readonly fire: () => void,
  ) {}

  /** Fires epsilonS after a deadline nextS [s] from steadyS, unless the pending firing comes first (or nextS is infinite). */
  armIn(steadyS: number, nextS: number): void {
    if (!Number.isFinite(nextS)) return;
    const dueS = steadyS + nextS + this.epsilonS;
    if (!(dueS < this.#dueS)) return;
    this.#schedule(dueS, (nextS + this.epsilonS) * 1000);
  }

  /**
   * Fires epsilonS from now (not in the same instant: a periodic tick of this instant may just have published),
   * unless the pending firing comes sooner. At most once per control period: were a passed deadline not to fault
   * (rounding), the periodic tick handles it, not a run of immediate firings.
   */
  soon(): void {
    const nowS = this.steady.now();
    const dueS = nowS + this.epsilonS;
    if (this.#dueS <= dueS || nowS - this.#lastSoonS < this.periodS) return;
    this.#lastSoonS = nowS;
    this.#schedule(dueS, this.epsilonS * 1000);
  }

  cancel(): void {
    this.#pending.unsubscribe();
  }

  #schedule(dueS: number, delayMs: number): void {
    this.#pending.unsubscribe();
    this.#dueS = dueS;
    this.#pending = this.scheduler.schedule(
      () => {
        this.#dueS = Number.POSITIVE_INFINITY;
        this.#pending = Subscription.EMPTY;
        this.fire();
      },
      Number.isFinite(delayMs) ? Math.max(0, delayMs) : 0,
    );
  }
}
