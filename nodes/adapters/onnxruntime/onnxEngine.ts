/**
 * PlanningEngine on onnxruntime-node in a worker thread. Frames reach the worker through shared memory:
 * - frames admitted to the engine's FrameStore (createFrameStore: per-camera rings of SharedArrayBuffer slots,
 *   written once when a frame is received; the planner uses it) are read by the worker in place: plan() only names
 *   their slots and holds them until the worker has preprocessed them — no frame bytes are copied per plan;
 * - any other frame (a caller of plan() with its own buffers) is copied into a pooled buffer in 2 MiB slices
 *   between event-loop turns (callers keep those bytes unchanged until the plan settles).
 * Each shared buffer is sent to a worker once. A crashed worker fails its in-flight plans with
 * EngineError('worker_crashed'); the next plan starts a fresh one.
 */
import { EngineError } from '../../core/planningEngine.js';
import type { CameraFrame, EngineContract, PlanInput, PlanResult, PlanningEngine } from '../../core/planningEngine.js';
import { silentLogger } from '../../core/logger.js';
import type { Logger } from '../../core/logger.js';
import { loadManifest } from '../../bundle/manifest.js';
import type { Manifest } from '../../bundle/manifest.js';
import type { FileStamps } from '../../bundle/verifyBundle.js';
import { validatePlanInput, type CheckedFrames } from '../../ar1/planInput.js';
import { FramePool } from './framePool.js';
import { MainThreadTimes } from './mainThreadTimes.js';
import { emptyRingStats, FrameCopyError, FrameRing, type RingStats } from './frameRing.js';
import type { FrameStore, FrameStoreOptions } from '../../core/planningEngine.js';
import { copyIntoPool, placeFrames, unholdRing, type PlacedFrames, type PlanHold } from './planFrames.js';
import { InferenceWorker } from './inferenceWorker.js';
import { packHistory } from './protocol.js';
import type { PlanMessage, ToWorker } from './protocol.js';

export interface OnnxEngineOptions {
  bundleDir: string;
  /** Tried in order until one loads every graph, e.g. ['tensorrt', 'cuda', 'cpu'] ('cuda:1' picks a device). Default ['cpu']. */
  executionProviders?: string[];
  logger?: Logger;
  intraOpThreads?: number;
  /**
   * A monotonic clock [ms], e.g. performance.now, for profiling: when given, the engine measures the main-thread time
   * each plan costs (mainThreadMs). Without it the engine reads no clock.
   */
  clock?: () => number;
}

/** Pool buffers made up front: none, they are made when a plan has frames outside a ring (the planner's are in one). */
const POOL_BUFFERS = 0;

/** A plan ready to go to the worker: its message (without the slots to share, known only when sent) and its hold. */
interface Prepared {
  msg: Omit<PlanMessage, 'buffers' | 'forget'>;
  hold: PlanHold;
  /** The worker generation it was prepared for: a restart in between fails it like a plan in flight. */
  generation: number;
}

/** Main-thread transport counters: frame bytes plan() copied (0 for frames in a FrameStore) and plans sent. */
export interface TransportStats {
  plans: number;
  planCopiedBytes: number;
  ringFrames: number;
  copiedFrames: number;
  /** Frames checked against the contract in full (a store's frame once, by its first plan; any other every time). */
  checkedFrames: number;
}

export class OnnxEngine implements PlanningEngine {
  readonly contract: EngineContract;
  #provider = '';
  #handle: InferenceWorker | undefined;
  #nextId = 1;
  /** Incremented by restartWorker(): plans prepared across a restart fail like those in flight. */
  #generation = 0;
  #closed = false;
  /** What the first worker verified; later workers hash only files that changed since. */
  #stamps: FileStamps | undefined;
  readonly #pool: FramePool;
  /** Shared memory lent to the worker, by plan id, until it gives it back (or dies). */
  readonly #slotsInUse = new Map<number, PlanHold>();
  readonly #rings: FrameRing[] = [];
  /** Workers given up on by restartWorker that have not exited yet (each finishes the graph run it is in). */
  readonly #retiring = new Set<InferenceWorker>();
  /** Stats of rings closed and dropped, so ringStats keeps counting them. */
  readonly #closedRingStats: RingStats = emptyRingStats();
  #nextSlotId = 1;
  readonly #transport: TransportStats = {
    plans: 0,
    planCopiedBytes: 0,
    ringFrames: 0,
    copiedFrames: 0,
    checkedFrames: 0,
  };
  /** With options.clock: the main-thread time of each plan. */
  readonly #times = new MainThreadTimes();

  private constructor(
    readonly manifest: Manifest,
    readonly options: Required<Pick<OnnxEngineOptions, 'bundleDir' | 'executionProviders' | 'logger'>> &
      OnnxEngineOptions,
  ) {
    const m = manifest;
    this.contract = {
      bundleId: `${m.bundle.id}@${m.bundle.version}`,
      cameras: m.cameras.names,
      framesPerCamera: m.cameras.framesPerCamera,
      frameSpacingS: m.cameras.frameSpacingS,
      imageWidth: m.image.native.width,
      imageHeight: m.image.native.height,
      historySteps: m.history.steps,
      historyDtS: m.history.dtS,
      trajectorySteps: m.trajectory.steps,
      trajectoryDtS: m.trajectory.dtS,
    };
    const frames = m.cameras.names.length * m.cameras.framesPerCamera;
    this.#pool = new FramePool(
      frames * m.image.native.width * m.image.native.height * 3,
      POOL_BUFFERS,
      () => this.#nextSlotId++,
    );
  }

  /** Loads and verifies the bundle in a worker; rejects with EngineError('bundle' | 'runtime'). */
  static async create(options: OnnxEngineOptions): Promise<OnnxEngine> {
    let manifest: Manifest;
    try {
      manifest = loadManifest(options.bundleDir);
    } catch (e) {
      throw new EngineError('bundle', (e as Error).message);
    }
    const engine = new OnnxEngine(manifest, { executionProviders: ['cpu'], logger: silentLogger, ...options });
    const h = engine.#spawn();
    try {
      engine.#provider = await h.ready;
    } catch (e) {
      await h.terminate();
      throw e;
    }
    return engine;
  }

  get provider(): string {
    return this.#provider;
  }

  /** Frame-pool statistics (allocations stay flat at a steady plan rate). */
  get poolStats(): FramePool['stats'] {
    return this.#pool.stats;
  }

  /** Frame bytes copied by plan() on the calling thread, and plans sent. */
  get transportStats(): TransportStats {
    return { ...this.#transport };
  }

  /** Frames written into this engine's frame stores on receipt (summed over stores). */
  get ringStats(): RingStats {
    const t: RingStats = { ...this.#closedRingStats };
    for (const r of this.#rings) addStats(t, r.stats);
    return t;
  }

  /**
   * Per-camera rings of shared slots (FrameRing): a frame admitted there is written once and read by the worker in
   * place. slotsPerCamera bounds each camera's ring; the planner sizes it from its buffer and the bundle's frames.
   */
  createFrameStore(options: FrameStoreOptions): FrameStore & FrameRing {
    const ring = new FrameRing(this.contract.cameras.length, options.slotsPerCamera, () => this.#nextSlotId++);
    this.#rings.push(ring);
    return ring;
  }

  plan(input: PlanInput): Promise<PlanResult> {
    return this.#timedPrepare(input).then((p) => this.#send([p]).get(p.msg.id)!);
  }

  /**
   * With options.clock: the main-thread time each answered plan cost, newest last (up to 1024): plan()'s own call
   * (validation, naming its store frames, the history), its share of posting it to the worker, and handling the
   * worker's two replies (its frames are read; its result). Not included: the structured-clone decoding of the
   * replies, which runs before the engine sees them, and the sliced copy of frames from outside a frame store
   * (transportStats.planCopiedBytes counts those; the planner's frames are all in its store).
   */
  get mainThreadMs(): readonly number[] {
    return this.#times.answered;
  }

  /** #prepare, its synchronous part timed with options.clock. */
  #timedPrepare(input: PlanInput): Promise<Prepared> {
    const clock = this.options.clock;
    if (!clock) return this.#prepare(input);
    const id = this.#nextId;
    const t = clock();
    const prepared = this.#prepare(input);
    if (this.#nextId !== id) this.#times.spend(id, clock() - t); // validated and given its id
    return prepared;
  }

  /**
   * Several plans in one worker pass (batched inference): their frames are prepared as plan() does (named in their
   * ring slots or copied once into a pooled buffer, never copied again per plan), then they go to the worker in one
   * message, which runs them together (runPipelineBatch: one vision run for their images, preprocessed into one
   * pixel buffer, and one prefill run, up to the bundle's max_batch; one decode run per token for all of them). One
   * promise per input, in order; each result equals plan() on that input alone (bit-identical; only the timing
   * differs: a batch's shared runs count for each of its plans), and a failing input rejects only its own.
   */
  planBatch(inputs: readonly PlanInput[]): Promise<PlanResult>[] {
    const prepared = inputs.map((input) => this.#timedPrepare(input));
    const sent = Promise.allSettled(prepared).then((settled) =>
      this.#send(settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []))),
    );
    return prepared.map((p) => p.then((plan) => sent.then((results) => results.get(plan.msg.id)!)));
  }

  /**
   * Frames one of this engine's rings handed out (frozen) that a plan has checked against the contract: the next
   * plans using them check only their camera (validatePlanInput). Private: nothing else can mark a frame checked.
   */
  readonly #checkedFrames = new WeakSet<CameraFrame>();
  readonly #checked: CheckedFrames = {
    has: (f) => this.#checkedFrames.has(f),
    add: (f) => {
      this.#transport.checkedFrames++;
      for (const ring of this.#rings)
        if (ring.handedOut(f)) {
          this.#checkedFrames.add(f);
          return;
        }
    },
  };

  /** Validates a plan, names its ring frames (held) and copies the others into a pooled buffer (planFrames.ts). */
  async #prepare(input: PlanInput): Promise<Prepared> {
    if (this.#closed) throw new EngineError('closed', `engine closed [bundle=${this.contract.bundleId}]`);
    validatePlanInput(input, this.contract, this.#checked);
    const sources = input.frames.flat();
    const tag = `[bundle=${this.contract.bundleId}]`;
    let placed: PlacedFrames;
    try {
      placed = placeFrames(sources, this.#rings);
    } catch (e) {
      throw new EngineError('input', `${(e as Error).message} ${tag}`);
    }
    const { hold, copies, copyBytes, receipts } = placed;
    try {
      if (copies.length > 0) hold.pool = this.#pool.acquire(copyBytes);
    } catch (e) {
      this.#release(hold);
      const cams = [...new Set(copies.map((i) => sources[i]!.camera))].join(', ');
      throw new EngineError('runtime', `copying frames of ${cams}: ${copyBytes} bytes: ${(e as Error).message} ${tag}`);
    }
    const history = packHistory(input.history);
    const id = this.#nextId++;
    const generation = this.#generation;
    try {
      if (receipts.length > 0) await Promise.all(receipts);
      if (hold.pool) await copyIntoPool(hold.pool, sources, placed);
    } catch (e) {
      this.#release(hold); // a frame that could not be copied (the caller's) or anything else (ours): the plan fails alone
      this.#times.drop(id);
      const kind = e instanceof FrameCopyError ? 'input' : 'runtime';
      throw new EngineError(kind, `${(e as Error)?.message ?? String(e)} ${tag}`);
    }
    this.#transport.plans++;
    this.#transport.ringFrames += sources.length - copies.length;
    this.#transport.copiedFrames += copies.length;
    this.#transport.planCopiedBytes += copyBytes;
    return {
      msg: {
        type: 'plan',
        id,
        t0S: input.t0S,
        frames: placed.table,
        seed: input.seed,
        samples: input.samples ?? 1,
        history,
        historyDtS: input.history.dt,
      },
      hold,
      generation,
    };
  }

  /** Posts prepared plans to the worker, one message for all of them; each plan's result by id. */
  #send(plans: readonly Prepared[]): Map<number, Promise<PlanResult>> {
    const clock = this.options.clock;
    const t = clock?.();
    const results = new Map<number, Promise<PlanResult>>();
    const ready: Prepared[] = [];
    for (const p of plans) {
      let refused: EngineError | undefined;
      if (this.#closed) refused = new EngineError('closed', `engine closed [bundle=${this.contract.bundleId}]`);
      else if (p.generation !== this.#generation)
        // the worker was restarted while this plan's frames were copied
        refused = new EngineError(
          'worker_crashed',
          `inference worker restarted while the plan was being prepared [bundle=${this.contract.bundleId}]`,
        );
      if (refused) {
        this.#times.drop(p.msg.id);
        this.#release(p.hold);
        results.set(p.msg.id, Promise.reject(refused));
      } else ready.push(p);
    }
    if (ready.length === 0) return results;
    let handle: InferenceWorker;
    try {
      handle = this.#handle && !this.#handle.dead ? this.#handle : this.#spawn();
    } catch (e) {
      // No worker could be started (out of memory or threads): these plans fail and give their slots back.
      const error = new EngineError(
        'runtime',
        `starting the inference worker failed: ${(e as Error)?.message ?? String(e)} [bundle=${this.contract.bundleId}]`,
      );
      for (const p of ready) {
        this.#times.drop(p.msg.id);
        this.#release(p.hold);
        results.set(p.msg.id, Promise.reject(error));
      }
      return results;
    }
    const msgs: PlanMessage[] = [];
    for (const p of ready) {
      const buffers: PlanMessage['buffers'] = [];
      const share = (slot: number, buffer: SharedArrayBuffer) => {
        if (handle.knownSlots.has(slot)) return;
        handle.knownSlots.add(slot);
        buffers.push({ slot, buffer });
      };
      if (p.hold.pool) share(p.hold.pool.id, p.hold.pool.buffer);
      for (const r of p.hold.ring) share(r.id, r.buffer);
      msgs.push({ ...p.msg, buffers, forget: this.#forgettable(handle) });
      this.#slotsInUse.set(p.msg.id, p.hold);
      results.set(p.msg.id, handle.expect(p.msg.id));
    }
    try {
      handle.post((msgs.length === 1 ? msgs[0]! : { type: 'batch', plans: msgs }) satisfies ToWorker);
    } catch (e) {
      // Nothing reached the worker: these plans fail, their slots go back, and the memory they were to share goes
      // with the next plan instead.
      const error = new EngineError(
        'runtime',
        `posting the plan to the inference worker failed: ${(e as Error).message} [bundle=${this.contract.bundleId}]`,
      );
      for (const m of msgs) {
        for (const b of m.buffers) handle.knownSlots.delete(b.slot);
        handle.unsentForget.push(...m.forget);
        this.#giveBack(m.id);
        this.#times.drop(m.id);
        handle.pending.get(m.id)?.reject(error);
        handle.pending.delete(m.id);
      }
      return results;
    }
    if (clock && t !== undefined) {
      const share = (clock() - t) / msgs.length;
      for (const m of msgs) this.#times.spend(m.id, share);
    }
    return results;
  }

  /**
   * Gives up on the worker now: in-flight plans reject with EngineError('worker_crashed') and give their slots back,
   * and the next plan starts a fresh worker. session.run cannot be cancelled, and terminating a worker while
   * onnxruntime runs a graph in it aborts the whole process (the native run calls back into a dead thread), so the old
   * worker is retired instead: it starts no further graph run and exits once the one it is in returns (close() waits
   * for that). Until then it holds its sessions' memory beside the new worker's.
   */
  async restartWorker(): Promise<void> {
    this.#generation++;
    const h = this.#handle;
    if (!h || h.dead) return;
    h.fail(
      new EngineError(
        'worker_crashed',
        `inference worker retired by restartWorker() [bundle=${this.contract.bundleId}]`,
      ),
    );
    this.#retiring.add(h);
    void h.exited.then(() => this.#retiring.delete(h));
    h.retire();
  }

  /**
   * Why a plain process exit would block now, or undefined: a worker thread that may be inside onnxruntime (loading
   * sessions, running graphs for plans not yet answered, releasing its sessions after close()), or a retired worker
   * whose run has not returned. Node
   * joins its worker threads on exit, onnxruntime cannot stop a run, and the run's callback then aborts the process;
   * the node's shutdown asks this before it gives up on a shutdown that missed its deadline.
   */
  nativeWork(): string | undefined {
    const parts: string[] = [];
    const h = this.#handle;
    if (h && !h.dead && h.starting) parts.push('the inference worker is loading the bundle');
    else if (h && !h.dead && h.pending.size > 0)
      parts.push(`the inference worker is running ${h.pending.size} plan${h.pending.size === 1 ? '' : 's'}`);
    else if (h && h.closing && !h.hasExited) parts.push('the inference worker is closing (releasing its sessions)');
    if (this.#retiring.size > 0)
      parts.push(
        `${this.#retiring.size} retired inference worker${this.#retiring.size === 1 ? ' has' : 's have'} not exited (a graph run or a load it cannot stop)`,
      );
    return parts.length ? parts.join('; ') : undefined;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const exits = [...this.#retiring].map((w) => w.exited);
    const h = this.#handle;
    if (h && !h.dead) exits.push(h.close());
    await Promise.all(exits);
  }

  #spawn(): InferenceWorker {
    const log = this.options.logger;
    const h = new InferenceWorker({
      init: {
        type: 'init',
        bundleDir: this.options.bundleDir,
        executionProviders: this.options.executionProviders,
        intraOpThreads: this.options.intraOpThreads,
        ...(this.#stamps ? { trusted: this.#stamps } : {}),
      },
      logger: log,
      bundleId: this.contract.bundleId,
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      times: this.#times,
      events: {
        ready: (provider, stamps) => {
          if (this.#provider && provider !== this.#provider)
            log.warn(`restarted worker uses ${provider}, was ${this.#provider}`);
          this.#provider = provider;
          this.#stamps = stamps;
        },
        framesRead: (id) => this.#giveBack(id),
        abandoned: (id) => {
          this.#giveBack(id);
          this.#times.drop(id);
        },
        result: (r) => ({ ...r, provider: this.#provider, bundleId: this.contract.bundleId }),
      },
    });
    this.#handle = h;
    return h;
  }

  #giveBack(planId: number): void {
    const hold = this.#slotsInUse.get(planId);
    if (!hold) return;
    this.#slotsInUse.delete(planId);
    this.#release(hold);
  }

  /** Retired ring slots no plan holds and replaced pool slots: the worker drops them; finished rings leave the engine. */
  #forgettable(handle: InferenceWorker): number[] {
    const ids = handle.unsentForget.splice(0);
    for (const id of this.#pool.takeDropped()) if (handle.knownSlots.delete(id)) ids.push(id);
    for (const r of this.#rings) for (const id of r.takeForgettable()) if (handle.knownSlots.delete(id)) ids.push(id);
    for (let i = this.#rings.length - 1; i >= 0; i--) {
      const r = this.#rings[i]!;
      if (r.finished) {
        addStats(this.#closedRingStats, r.stats);
        this.#rings.splice(i, 1);
      }
    }
    return ids;
  }

  #release(hold: PlanHold): void {
    if (hold.pool) this.#pool.release(hold.pool);
    hold.pool = undefined;
    unholdRing(hold);
  }
}

function addStats(into: RingStats, s: RingStats): void {
  for (const k of Object.keys(s) as Array<keyof RingStats>) into[k] += s[k];
}

export function createOnnxEngine(options: OnnxEngineOptions): Promise<PlanningEngine & OnnxEngine> {
  return OnnxEngine.create(options);
}
