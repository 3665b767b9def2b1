/**
 * PlanningEngine on onnxruntime-node in a worker thread. plan() validates the input, copies every frame into one
 * pooled buffer in 2 MiB slices between event-loop turns (callers keep frame bytes unchanged until the plan settles), shares it with the worker and
 * gets it back after preprocessing. A crashed worker fails its in-flight plans with EngineError('worker_crashed');
 * the next plan starts a fresh one.
 */
import { Worker } from 'node:worker_threads';
import { EngineError } from '../../core/engine.js';
import type { EngineContract, PlanInput, PlanResult, PlanningEngine } from '../../core/engine.js';
import { silentLogger } from '../../core/logger.js';
import type { Logger } from '../../core/logger.js';
import { loadManifest } from '../../engine/manifest.js';
import type { Manifest } from '../../engine/manifest.js';
import type { FileStamps } from '../../engine/verifyBundle.js';
import { validatePlanInput } from '../../engine/planInput.js';
import { FramePool, type PoolSlot } from './framePool.js';
import type { FrameRef, FromWorker, PlanMessage, ToWorker } from './protocol.js';

export interface OnnxEngineOptions {
  bundleDir: string;
  /** Tried in order until one loads every graph, e.g. ['tensorrt', 'cuda', 'cpu'] ('cuda:1' picks a device). Default ['cpu']. */
  executionProviders?: string[];
  logger?: Logger;
  intraOpThreads?: number;
}

/** The compiled worker next to the compiled engine (dist/); from the TypeScript sources (tests run through tsx), an entry that registers tsx in the worker first. */
const WORKER_URL = new URL(import.meta.url.endsWith('.js') ? './worker.js' : './worker.mjs', import.meta.url);
const POOL_BUFFERS = 2;
/** Frame bytes copied per event-loop turn: ~0.1–0.2 ms of memcpy. */
const COPY_SLICE_BYTES = 2 * 1024 * 1024;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Pending { resolve: (r: PlanResult) => void; reject: (e: Error) => void }
interface WorkerHandle { worker: Worker; ready: Promise<string>; pending: Map<number, Pending>; dead: boolean; knownSlots: Set<number> }

export class OnnxEngine implements PlanningEngine {
  readonly contract: EngineContract;
  #provider = '';
  #handle: WorkerHandle | undefined;
  #nextId = 1;
  /** Incremented by restartWorker(): plans prepared across a restart fail like those in flight. */
  #generation = 0;
  #closed = false;
  /** What the first worker verified; later workers hash only files that changed since. */
  #stamps: FileStamps | undefined;
  readonly #pool: FramePool;
  /** Pool slots lent to the worker, by plan id, until it gives them back (or dies). */
  readonly #slotsInUse = new Map<number, PoolSlot>();

  private constructor(readonly manifest: Manifest, readonly options: Required<Pick<OnnxEngineOptions, 'bundleDir' | 'executionProviders' | 'logger'>> & OnnxEngineOptions) {
    const m = manifest;
    this.contract = {
      bundleId: `${m.bundle.id}@${m.bundle.version}`, cameras: m.cameras.names, framesPerCamera: m.cameras.framesPerCamera,
      frameSpacingS: m.cameras.frameSpacingS, imageWidth: m.image.native.width, imageHeight: m.image.native.height,
      historySteps: m.history.steps, historyDtS: m.history.dtS, trajectorySteps: m.trajectory.steps, trajectoryDtS: m.trajectory.dtS,
    };
    const frames = m.cameras.names.length * m.cameras.framesPerCamera;
    this.#pool = new FramePool(frames * m.image.native.width * m.image.native.height * 3, POOL_BUFFERS);
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
      await h.worker.terminate();
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

  plan(input: PlanInput): Promise<PlanResult> {
    if (this.#closed) return Promise.reject(new EngineError('closed', `engine closed [bundle=${this.contract.bundleId}]`));
    try {
      validatePlanInput(input, this.contract);
    } catch (e) {
      return Promise.reject(e);
    }
    // Copy into one pooled buffer in slices, yielding the event loop between them: a plan's 16 full-HD frames are
    // 100 MB, and one synchronous copy blocked the main thread (and the 50 Hz command timer) for 12–68 ms
    // (docs/performance.md). Callers keep the frame bytes unchanged until the returned promise settles.
    let total = 0;
    for (const cam of input.frames) for (const f of cam) total += f.data.length;
    const slot = this.#pool.acquire(total);
    const h = input.history;
    const history = { x: Float64Array.from(h.x), y: Float64Array.from(h.y), z: Float64Array.from(h.z), yaw: Float64Array.from(h.yaw), dt: h.dt };
    const sources = input.frames.flat();
    const id = this.#nextId++;
    const generation = this.#generation;
    return (async () => {
      const bytes = new Uint8Array(slot.buffer);
      const frames: FrameRef[] = [];
      let offset = 0;
      let sinceYield = 0;
      for (const f of sources) {
        for (let at = 0; at < f.data.length; at += COPY_SLICE_BYTES) {
          const end = Math.min(f.data.length, at + COPY_SLICE_BYTES);
          bytes.set(f.data.subarray(at, end), offset + at);
          sinceYield += end - at;
          if (sinceYield >= COPY_SLICE_BYTES) { sinceYield = 0; await nextTurn(); }
        }
        frames.push({ offset, length: f.data.length, encoding: f.encoding, width: f.width, height: f.height, step: f.step, key: `${f.camera}@${f.stampS}` });
        offset += f.data.length;
      }
      if (this.#closed) {
        this.#pool.release(slot);
        throw new EngineError('closed', `engine closed [bundle=${this.contract.bundleId}]`);
      }
      if (generation !== this.#generation) { // the worker was restarted while this plan's frames were copied
        this.#pool.release(slot);
        throw new EngineError('worker_crashed', `inference worker restarted while the plan was being prepared [bundle=${this.contract.bundleId}]`);
      }
      const handle = this.#handle && !this.#handle.dead ? this.#handle : this.#spawn();
      const known = handle.knownSlots.has(slot.id);
      handle.knownSlots.add(slot.id);
      const msg: PlanMessage = {
        type: 'plan', id, t0S: input.t0S, frames, slot: slot.id, ...(known ? {} : { buffer: slot.buffer }),
        seed: input.seed, samples: input.samples ?? 1, history,
      };
      this.#slotsInUse.set(id, slot);
      return await new Promise<PlanResult>((resolve, reject) => {
        handle.pending.set(msg.id, { resolve, reject });
        handle.worker.postMessage(msg satisfies ToWorker);
      });
    })();
  }

  /**
   * Stops the worker now (session.run cannot be cancelled otherwise): in-flight plans reject with
   * EngineError('worker_crashed'); the next plan starts a fresh worker.
   */
  async restartWorker(): Promise<void> {
    this.#generation++;
    const h = this.#handle;
    if (!h) return;
    this.#fail(h, new EngineError('worker_crashed', `inference worker terminated by restartWorker() [bundle=${this.contract.bundleId}]`));
    await h.worker.terminate();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const h = this.#handle;
    if (!h || h.dead) return;
    await new Promise<void>((resolve) => {
      h.worker.once('exit', () => resolve());
      h.worker.postMessage({ type: 'close' } satisfies ToWorker);
    });
  }

  #spawn(): WorkerHandle {
    const worker = new Worker(WORKER_URL);
    const pending = new Map<number, Pending>();
    let readyResolve!: (p: string) => void, readyReject!: (e: Error) => void;
    const ready = new Promise<string>((res, rej) => { readyResolve = res; readyReject = rej; });
    ready.catch(() => {}); // observed by plan() via pending rejections
    const h: WorkerHandle = { worker, ready, pending, dead: false, knownSlots: new Set() };
    this.#handle = h;
    const log = this.options.logger;
    worker.on('message', (m: FromWorker) => {
      switch (m.type) {
        case 'ready':
          if (this.#provider && m.provider !== this.#provider) log.warn(`restarted worker uses ${m.provider}, was ${this.#provider}`);
          this.#provider = m.provider;
          this.#stamps = m.stamps;
          readyResolve(m.provider);
          return;
        case 'init_error': {
          const e = new EngineError(m.kind, m.message);
          readyReject(e);
          this.#fail(h, e);
          void worker.terminate();
          return;
        }
        case 'buffer':
          this.#giveBack(m.id);
          return;
        case 'result':
          pending.get(m.id)?.resolve({ ...m.result, provider: this.#provider, bundleId: this.contract.bundleId });
          pending.delete(m.id);
          return;
        case 'error':
          pending.get(m.id)?.reject(new EngineError(m.kind, m.message));
          pending.delete(m.id);
          return;
        case 'log':
          log[m.level](m.message);
          return;
        case 'closed':
          this.#fail(h, new EngineError('closed', `engine closed [bundle=${this.contract.bundleId}]`));
          return;
      }
    });
    worker.on('error', (e) => {
      log.error(`inference worker crashed: ${e.message} [bundle=${this.contract.bundleId}]`);
      readyReject(new EngineError('worker_crashed', e.message));
      this.#fail(h, new EngineError('worker_crashed', `inference worker crashed: ${e.message} [bundle=${this.contract.bundleId}]`));
    });
    worker.on('exit', (code) => {
      if (h.dead) return;
      readyReject(new EngineError('worker_crashed', `worker exited with code ${code}`));
      this.#fail(h, new EngineError('worker_crashed', `inference worker exited with code ${code} [bundle=${this.contract.bundleId}]`));
    });
    worker.postMessage({
      type: 'init', bundleDir: this.options.bundleDir, executionProviders: this.options.executionProviders, intraOpThreads: this.options.intraOpThreads,
      ...(this.#stamps ? { trusted: this.#stamps } : {}),
    } satisfies ToWorker);
    return h;
  }

  #giveBack(planId: number): void {
    const slot = this.#slotsInUse.get(planId);
    if (!slot) return;
    this.#slotsInUse.delete(planId);
    this.#pool.release(slot);
  }

  #fail(h: WorkerHandle, e: EngineError): void {
    h.dead = true;
    for (const id of h.pending.keys()) this.#giveBack(id);
    for (const p of h.pending.values()) p.reject(e);
    h.pending.clear();
  }
}

export function createOnnxEngine(options: OnnxEngineOptions): Promise<PlanningEngine & OnnxEngine> {
  return OnnxEngine.create(options);
}

