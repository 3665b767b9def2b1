/**
 * The main-thread time each plan costs the engine, summed over the stretches the engine times with its injected clock
 * (its call, its share of the post, its two replies) until the plan is answered. Pure bookkeeping: no clock here.
 */

/** Answered plans' times kept, newest last. */
const KEPT = 1024;

export class MainThreadTimes {
  /** Plans not answered yet: time so far [ms]. */
  readonly #open = new Map<number, number>();
  readonly #answered: number[] = [];

  /** Adds ms to plan `id`'s time. */
  spend(id: number, ms: number): void {
    this.#open.set(id, (this.#open.get(id) ?? 0) + ms);
  }

  /** Whether plan `id` is being timed (its call was). */
  has(id: number): boolean {
    return this.#open.has(id);
  }

  /** Plan `id` is answered: its time, with this last stretch, joins the answered ones. */
  finish(id: number, ms: number): void {
    const total = this.#open.get(id);
    if (total === undefined) return;
    this.#open.delete(id);
    if (this.#answered.length >= KEPT) this.#answered.shift();
    this.#answered.push(total + ms);
  }

  /** Plan `id` failed or was refused: it is not counted. */
  drop(id: number): void {
    this.#open.delete(id);
  }

  /** The answered plans' times [ms], newest last (the last 1024). */
  get answered(): readonly number[] {
    return this.#answered;
  }
}
