/**
 * One inference worker thread as the engine sees it: started with the bundle to load, the plans it owes an answer,
 * the shared slots it has been sent, and how it ends (a crash, an exit, retired, closed). The engine decides what an
 * answer means for its frames (WorkerEvents); this module keeps the thread's own state straight.
 */
import { Worker } from 'node:worker_threads';
import { EngineError, type PlanResult } from '../../core/planningEngine.js';
import type { Logger } from '../../core/logger.js';
import type { FileStamps } from '../../bundle/verifyBundle.js';
import type { MainThreadTimes } from './mainThreadTimes.js';
import type { FromWorker, InitMessage, ToWorker } from './protocol.js';

/** The compiled worker next to the compiled engine (dist/); from the TypeScript sources (tests run through tsx), an entry that registers tsx in the worker first. */
const WORKER_URL = new URL(import.meta.url.endsWith('.js') ? './worker.js' : './worker.mjs', import.meta.url);

interface Pending {
  resolve: (r: PlanResult) => void;
  reject: (e: Error) => void;
}

/** What the engine does when the worker answers. */
interface WorkerEvents {
  /** The worker loaded every graph with this provider, after verifying the bundle (stamps). */
  ready(provider: string, stamps: FileStamps): void;
  /** The worker has read plan `id`'s frames: their slots can go back. */
  framesRead(id: number): void;
  /** Plan `id` will never be answered by this worker (it failed, or was given up on): its slots go back. */
  abandoned(id: number): void;
  /** The result as the caller gets it (the engine adds its provider and bundle). */
  result(r: Extract<FromWorker, { type: 'result' }>['result']): PlanResult;
}

export interface InferenceWorkerOptions {
  init: InitMessage;
  logger: Logger;
  /** Names the bundle in error messages. */
  bundleId: string;
  events: WorkerEvents;
  /** With a clock, the main-thread time of handling each plan's two replies goes to times. */
  clock?: () => number;
  times: MainThreadTimes;
}

export class InferenceWorker {
  readonly #worker: Worker;
  /** Resolves with the provider once the worker loaded every graph; rejects if it cannot. */
  readonly ready: Promise<string>;
  /** Resolves when the thread has exited (crashed, closed, retired, terminated). */
  readonly exited: Promise<void>;
  /** Plans sent and not answered, by id. */
  readonly pending = new Map<number, Pending>();
  /** Shared slots sent to this worker (each is sent once). */
  readonly knownSlots = new Set<number>();
  /** Slots to forget that a failed post never told the worker about: the next message carries them. */
  readonly unsentForget: number[] = [];
  /** Failed, closed or retired: plans go to another worker. */
  dead = false;
  /** Loading its sessions (until it is ready or fails). */
  starting = true;
  /** Told to close (it finishes what it was sent, then releases its sessions: native code) and not exited yet. */
  closing = false;
  /** The thread has exited. */
  hasExited = false;
  readonly #o: InferenceWorkerOptions;

  /** Starts the thread and sends it the bundle to load; throws (after terminating it) if that message cannot go. */
  constructor(o: InferenceWorkerOptions) {
    this.#o = o;
    const worker = new Worker(WORKER_URL);
    this.#worker = worker;
    let readyResolve!: (p: string) => void, readyReject!: (e: Error) => void;
    this.ready = new Promise<string>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    this.ready.catch(() => {}); // observed by plan() via pending rejections
    this.exited = new Promise<void>((resolve) =>
      worker.once('exit', () => {
        this.hasExited = true;
        this.closing = false;
        resolve();
      }),
    );
    const { logger: log, bundleId, events, clock, times } = o;
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          events.ready(m.provider, m.stamps);
          this.starting = false;
          readyResolve(m.provider);
          return;
        case 'init_error': {
          const e = new EngineError(m.kind, m.message);
          this.starting = false;
          readyReject(e);
          this.fail(e);
          void worker.terminate();
          return;
        }
        case 'buffer': {
          const t = clock?.();
          events.framesRead(m.id);
          if (clock && t !== undefined && times.has(m.id)) times.spend(m.id, clock() - t);
          return;
        }
        case 'result': {
          const t = clock?.();
          this.pending.get(m.id)?.resolve(events.result(m.result));
          this.pending.delete(m.id);
          if (clock && t !== undefined) times.finish(m.id, clock() - t);
          return;
        }
        case 'error':
          this.pending.get(m.id)?.reject(new EngineError(m.kind, m.message, m.frame));
          this.pending.delete(m.id);
          times.drop(m.id);
          return;
        case 'log':
          log[m.level](m.message);
          return;
        case 'closed':
          this.fail(new EngineError('closed', `engine closed [bundle=${bundleId}]`));
          return;
      }
    });
    worker.on('error', (e) => {
      log.error(`inference worker crashed: ${e.message} [bundle=${bundleId}]`);
      readyReject(new EngineError('worker_crashed', e.message));
      this.fail(new EngineError('worker_crashed', `inference worker crashed: ${e.message} [bundle=${bundleId}]`));
    });
    worker.on('exit', (code) => {
      if (this.dead) return;
      readyReject(new EngineError('worker_crashed', `worker exited with code ${code}`));
      this.fail(new EngineError('worker_crashed', `inference worker exited with code ${code} [bundle=${bundleId}]`));
    });
    try {
      this.post(o.init);
    } catch (e) {
      this.dead = true; // never used: the next plan starts another (it has run nothing, so it can be terminated)
      void worker.terminate();
      throw e;
    }
  }

  post(message: ToWorker): void {
    this.#worker.postMessage(message);
  }

  /** A promise for plan `id`'s answer from this worker. */
  expect(id: number): Promise<PlanResult> {
    return new Promise<PlanResult>((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  /** Gives up on every plan this worker owes: their slots go back and each rejects with e. The worker is dead. */
  fail(e: EngineError): void {
    this.dead = true;
    for (const id of this.pending.keys()) this.#o.events.abandoned(id);
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  /**
   * Tells the worker to start no further graph run and to exit once the run it is in returns (it cannot be stopped:
   * terminating a worker while onnxruntime runs a graph aborts the process); `exited` resolves when it has.
   */
  retire(): void {
    this.post({ type: 'retire' });
  }

  /** Asks the worker to finish what it was sent, release its sessions and exit; resolves when it has exited. */
  close(): Promise<void> {
    this.closing = true;
    this.post({ type: 'close' });
    return this.exited;
  }

  /** Ends a worker that runs no graph (one that failed to start). */
  terminate(): Promise<number> {
    return this.#worker.terminate();
  }
}
