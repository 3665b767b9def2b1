import { Subscription, type SchedulerAction, type SchedulerLike } from 'rxjs';

/** Starts a periodic timer calling fire every periodMs (of the clock it follows); returns a function that stops it. */
export type StartTimer = (periodMs: number, fire: () => void) => () => void;

/**
 * An RxJS scheduler whose now() is the node's ROS clock [ms] and whose timers are ROS timers. On a vehicle both
 * are system time; under use_sim_time, rclnodejs timers follow /clock (they run on the node's ROS clock), so
 * timer()/interval() in node logic speed up, slow down and pause with the simulator, and now() agrees with them.
 * A delay of 0 runs on the next turn of the event loop (`immediate`).
 *
 * Like RxJS's AsyncAction, an action rescheduled with the same delay keeps its periodic timer (interval() costs
 * one ROS timer, not one per period); a work function that throws is contained and reported, never thrown into
 * the rclnodejs callback.
 */
export class RosTimerScheduler implements SchedulerLike {
  constructor(
    private readonly clockMs: () => number,
    private readonly startTimer: StartTimer,
    private readonly immediate: (fire: () => void) => () => void,
    private readonly onError: (e: unknown) => void,
  ) {}

  now(): number {
    return this.clockMs();
  }

  schedule<T>(work: (this: SchedulerAction<T>, state: T) => void, delay = 0, state?: T): Subscription {
    return new RosTimerAction(this, work).schedule(state, delay);
  }

  /** @internal */ start(delay: number, fire: () => void): () => void {
    return delay > 0 ? this.startTimer(delay, fire) : this.immediate(fire);
  }

  /** @internal */ report(e: unknown): void {
    this.onError(e);
  }
}

class RosTimerAction<T> extends Subscription implements SchedulerAction<T> {
  #stop: (() => void) | undefined;
  #delay = -1;
  #state: T | undefined;
  #pending = false;

  constructor(
    private readonly scheduler: RosTimerScheduler,
    private readonly work: (this: SchedulerAction<T>, state: T) => void,
  ) {
    super(() => this.#cancel());
  }

  schedule(state?: T, delay = 0): Subscription {
    if (this.closed) return this;
    this.#state = state;
    this.#pending = true;
    if (this.#stop && delay === this.#delay && delay > 0) return this; // periodic timer already runs at this period
    this.#cancel();
    this.#delay = delay;
    this.#stop = this.scheduler.start(delay, () => this.#fire());
    return this;
  }

  #fire(): void {
    if (this.closed || !this.#pending) return;
    this.#pending = false;
    if (this.#delay <= 0) this.#stop = undefined; // an immediate fires once
    try {
      this.work.call(this, this.#state as T);
    } catch (e) {
      this.unsubscribe();
      this.scheduler.report(e);
      return;
    }
    if (!this.#pending) this.unsubscribe(); // not rescheduled by the work: done, stop the timer
  }

  #cancel(): void {
    const stop = this.#stop;
    this.#stop = undefined;
    this.#delay = -1;
    stop?.();
  }
}
