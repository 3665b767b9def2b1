import {
  from,
  Observable,
  type ObservableInput,
  type OperatorFunction,
  type SchedulerLike,
  type Subscription,
} from 'rxjs';

/** What happened to each input of planLatest. Every input ends in exactly one of the last four. */
export type PlanEvent<I, R> =
  | { kind: 'started'; input: I }
  | { kind: 'completed'; input: I; result: R }
  | { kind: 'failed'; input: I; error: unknown }
  /** The plan completed without a result (the caller declined to run it). */
  | { kind: 'cancelled'; input: I }
  /** Replaced by a newer input while it waited. */
  | { kind: 'superseded'; input: I };

/**
 * Runs `plan` on one input at a time, as often as it allows but starting at most once per minIntervalMs; while a
 * plan runs (or the rate holds it back) at most ONE input waits and a newer one replaces it (latest wins).
 * Only the first value of each plan counts. Completes when the source has completed and nothing is left.
 */
export function planLatest<I, R>(
  plan: (input: I) => ObservableInput<R>,
  minIntervalMs: number,
  scheduler: SchedulerLike,
): OperatorFunction<I, PlanEvent<I, R>> {
  if (!(minIntervalMs >= 0) || !Number.isFinite(minIntervalMs)) {
    throw new RangeError(`planLatest: minIntervalMs: expected a finite value >= 0 ms, got ${minIntervalMs}`);
  }
  return (source) =>
    new Observable<PlanEvent<I, R>>((subscriber) => {
      let waiting: { input: I } | undefined;
      let running: Subscription | undefined;
      let runId = 0;
      let busy = false;
      let lastStartMs = -Infinity;
      let timer: Subscription | undefined;
      let sourceDone = false;

      const maybeComplete = () => {
        if (sourceDone && !busy && !waiting) subscriber.complete();
      };
      const finish = (id: number, event: PlanEvent<I, R>) => {
        if (id !== runId || !busy) return;
        busy = false;
        running?.unsubscribe();
        running = undefined;
        subscriber.next(event);
        tryStart();
        maybeComplete();
      };
      const tryStart = (): void => {
        if (busy || !waiting || timer || subscriber.closed) return;
        const now = scheduler.now();
        const due = lastStartMs + minIntervalMs;
        if (now < due) {
          timer = scheduler.schedule(() => {
            timer = undefined;
            tryStart();
            maybeComplete();
          }, due - now);
          return;
        }
        const { input } = waiting;
        waiting = undefined;
        busy = true;
        lastStartMs = now;
        const id = ++runId;
        subscriber.next({ kind: 'started', input });
        let inner: ObservableInput<R>;
        try {
          inner = plan(input);
        } catch (error) {
          finish(id, { kind: 'failed', input, error });
          return;
        }
        let got = false;
        const sub = from(inner).subscribe({
          next: (result) => {
            if (!got) {
              got = true;
              finish(id, { kind: 'completed', input, result });
            }
          },
          error: (error: unknown) => finish(id, { kind: 'failed', input, error }),
          complete: () => {
            if (!got) finish(id, { kind: 'cancelled', input });
          },
        });
        if (busy && id === runId) running = sub;
        else sub.unsubscribe();
      };

      const sourceSub = source.subscribe({
        next: (input) => {
          if (waiting) subscriber.next({ kind: 'superseded', input: waiting.input });
          waiting = { input };
          tryStart();
        },
        error: (e: unknown) => subscriber.error(e),
        complete: () => {
          sourceDone = true;
          maybeComplete();
        },
      });
      return () => {
        sourceSub.unsubscribe();
        running?.unsubscribe();
        timer?.unsubscribe();
      };
    });
}
