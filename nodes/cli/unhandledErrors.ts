/**
 * Errors thrown by node code inside a subscription callback. RxJS reports them on a timer through
 * `config.onUnhandledError` (by default it rethrows them there, which kills the process with exit 7). Replay
 * collects them instead, per bag, so the bag that raised one fails with one line and the other bags still run.
 *
 * With `--batch` several bags run in one process, so the hook must tell whose error it is. Each bag's replay runs in
 * its own async context (AsyncLocalStorage): its scheduler flushes, its promise continuations and the timer RxJS sets
 * to report an error all keep that context. An error raised where no bag's context is found cannot be told apart: it
 * fails every bag running at that moment, or, with none running, it is kept for the command to report at the end.
 * No error is dropped.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { config as rxConfig } from 'rxjs';

/** One bag's share of the errors. */
interface BagErrors {
  /** The first error raised for the bag, once (later calls give undefined). */
  take(): unknown;
}

export interface UnhandledErrors {
  /** Runs one bag's replay in its own context; errors its callbacks raise go to `errors`. */
  run<T>(fn: (errors: BagErrors) => Promise<T>): Promise<T>;
  /** Errors raised while no bag ran, or after the bag that raised them had finished (each once). */
  takeOrphans(): unknown[];
  /** Puts back the hook that was there before. */
  restore(): void;
}

interface Slot {
  error?: unknown;
  open: boolean;
}

export function containUnhandled(): UnhandledErrors {
  const previous = rxConfig.onUnhandledError;
  const context = new AsyncLocalStorage<Slot>();
  const running = new Set<Slot>();
  let orphans: unknown[] = [];
  const charge = (slot: Slot, e: unknown) => {
    if (!('error' in slot)) slot.error = e;
  };
  rxConfig.onUnhandledError = (e: unknown) => {
    const own = context.getStore();
    if (own?.open) charge(own, e);
    else if (!own && running.size > 0) for (const s of running) charge(s, e);
    else orphans.push(e);
  };
  return {
    async run(fn) {
      const slot: Slot = { open: true };
      running.add(slot);
      const errors: BagErrors = {
        take: () => {
          const e = slot.error;
          delete slot.error;
          return e;
        },
      };
      try {
        return await context.run(slot, () => fn(errors));
      } finally {
        running.delete(slot);
        slot.open = false;
        if ('error' in slot) orphans.push(slot.error); // raised after the bag last looked
      }
    },
    takeOrphans() {
      const o = orphans;
      orphans = [];
      return o;
    },
    restore() {
      rxConfig.onUnhandledError = previous;
    },
  };
}
